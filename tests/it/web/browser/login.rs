//! The login form in a browser: a person logs in (in Chinese, chosen with the language switch)
//! and lands on the board; a wrong password shows the error and starts no session.

use orderflow_schemas::{Grant, Role};

use super::harness::{run, Browser};
use crate::web::support::{login_of, password_of, WebSite};

/// The name of the session cookie.
const SESSION: &str = "of_session";

async fn has_session(b: &Browser) -> bool {
    let cookies = b.c.get_all_cookies().await.unwrap_or_else(|e| panic!("{}: cookies: {e}", b.name()));
    cookies.iter().any(|c| c.name() == SESSION)
}

#[tokio::test]
async fn a_person_logs_in_through_the_form_in_chinese_and_lands_on_the_board() {
    run("login_in_chinese", |lab| async move {
        let site = WebSite::with_grants(&[Grant::Role(Role::Sales)]).await;
        let b = lab.open("sales", &site.base).await;
        b.goto("/lang/zh-Hans?back=/login").await;
        b.until_path("/login").await;
        assert_eq!(
            b.attr("html", "lang").await.as_deref(),
            Some("zh-Hans"),
            "the switch did not set Chinese"
        );
        assert_eq!(b.text("main.login h1").await, "登录", "the login page is not in simplified Chinese");
        assert!(!has_session(&b).await, "a session cookie before logging in");

        let login = login_of(Grant::Role(Role::Sales));
        let landed = b.log_in(&login, &password_of(&login)).await;
        assert_eq!(landed.split('?').next(), Some("/orders"), "the login went to {landed}, not the board");
        assert!(has_session(&b).await, "logged in, but the browser holds no {SESSION} cookie");
        site.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_error_on_the_login_page_and_starts_no_session() {
    run("login_wrong_password", |lab| async move {
        let site = WebSite::with_grants(&[Grant::Role(Role::Sales)]).await;
        let b = lab.open("stranger", &site.base).await;
        let login = login_of(Grant::Role(Role::Sales));
        b.goto("/login").await;
        b.log_in_here(&login, "not-the-password").await;
        let error = b.text("main.login p.notice.error").await;
        assert!(error.contains("Wrong user name or password"), "the error says {error:?}");
        assert_eq!(b.path().await, "/login", "a refused login left the login page");
        assert!(!has_session(&b).await, "a refused login set a session cookie");
        assert_eq!(
            b.attr("#login-form [name=login]", "value").await.as_deref(),
            Some(login.as_str()),
            "the form forgot the user name that was typed"
        );

        // In Chinese, the same refusal in Chinese; then the right password gets in.
        b.goto("/lang/zh-Hans?back=/login").await;
        b.log_in_here(&login, "still-wrong").await;
        let error = b.text("main.login p.notice.error").await;
        assert!(error.contains("用户名或密码错误"), "the Chinese error says {error:?}");
        let landed = b.log_in(&login, &password_of(&login)).await;
        assert_eq!(landed.split('?').next(), Some("/orders"), "the login went to {landed}");
        site.stop().await;
    })
    .await;
}
