//! The pages in a real browser: Debian's headless Chromium driven over WebDriver by
//! [`fantoccini`] through Debian's chromedriver ([`harness`]). The tests log in through the login
//! form, fill in the intake form, approve from the queue, watch an order page update live
//! without a reload, confirm, open the customer's tracking page without cookies, and read the
//! statistics and the audit page ([`scenario`]); a relay that cuts the connection shows that a
//! reconnecting event stream resumes at the log's head ([`resume`]).
//!
//! Without chromium and chromium-driver the tests fail and say how to install them (`./test.sh`
//! does). A failing test leaves a screenshot and the HTML of each of its browser sessions under
//! `target/browser-failures/<test>/`. Screenshots of the pages (laptop and phone windows) go to
//! `$ORDERFLOW_SCREENSHOTS` when set (`ORDERFLOW_SCREENSHOTS=docs/screenshots` refreshes the ones
//! in the repository), else under the target directory.

mod harness;
mod login;
mod proxy;
mod resume;
mod scenario;
