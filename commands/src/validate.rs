//! Field checks shared by the rules: required texts and names within their byte limits, dates not
//! in the past, quantities and prices within their limits, counts within theirs.

use orderflow_schemas::{Date, OrderId};

use crate::command::NewLine;
use crate::limits::Limits;
use crate::rejection::Rejection;

/// Checks fields of one command against the limits, naming the order in every rejection.
pub(crate) struct Check<'a> {
    pub(crate) order: OrderId,
    pub(crate) limits: &'a Limits,
    pub(crate) today: Date,
}

impl Check<'_> {
    /// A rejection for a field that is missing or wrong.
    pub(crate) fn invalid(&self, field: impl Into<String>, problem: impl Into<String>) -> Rejection {
        Rejection::InvalidInput { order: self.order, field: field.into(), problem: problem.into() }
    }

    /// `count` must not exceed `max`.
    pub(crate) fn count<N: TryInto<u64>>(
        &self,
        what: impl Into<String>,
        count: N,
        max: N,
    ) -> Result<(), Rejection> {
        let count = count.try_into().unwrap_or(u64::MAX);
        let max = max.try_into().unwrap_or(u64::MAX);
        if count > max {
            return Err(Rejection::LimitExceeded { order: self.order, what: what.into(), count, max });
        }
        Ok(())
    }

    fn bytes(&self, field: &str, value: &str, max: usize) -> Result<(), Rejection> {
        self.count(format!("{field} length in bytes"), value.len(), max)
    }

    fn required(&self, field: &str, value: &str) -> Result<(), Rejection> {
        if value.trim().is_empty() {
            return Err(self.invalid(field, "is required"));
        }
        Ok(())
    }

    /// A required name (customer, SKU, carrier...): not blank, within `name_bytes_max`.
    pub(crate) fn name(&self, field: &str, value: &str) -> Result<(), Rejection> {
        self.required(field, value)?;
        self.bytes(field, value, self.limits.name_bytes_max)
    }

    /// A required free text (reason, address, complaint): not blank, within `text_bytes_max`.
    pub(crate) fn text(&self, field: &str, value: &str) -> Result<(), Rejection> {
        self.required(field, value)?;
        self.bytes(field, value, self.limits.text_bytes_max)
    }

    /// An optional free text (note, comment, specification): within `text_bytes_max`.
    pub(crate) fn note(&self, field: &str, value: &str) -> Result<(), Rejection> {
        self.bytes(field, value, self.limits.text_bytes_max)
    }

    /// A date that must not be before today.
    pub(crate) fn not_past(&self, field: &str, date: Date) -> Result<(), Rejection> {
        if date < self.today {
            return Err(self.invalid(field, format!("{date} is before today ({})", self.today)));
        }
        Ok(())
    }

    /// A line quantity: more than 0 and within `quantity_max`.
    pub(crate) fn quantity(&self, label: &str, quantity: u32) -> Result<(), Rejection> {
        if quantity == 0 {
            return Err(self.invalid(format!("{label} quantity"), "must be more than 0"));
        }
        self.count(format!("{label} quantity"), quantity, self.limits.quantity_max)
    }

    /// A unit price: 0 or more and within `unit_price_minor_max`.
    pub(crate) fn unit_price(&self, label: &str, price_minor: i64) -> Result<(), Rejection> {
        if price_minor < 0 {
            return Err(
                self.invalid(format!("{label} unit price"), format!("({price_minor}) must not be negative"))
            );
        }
        self.count(
            format!("{label} unit price in minor units"),
            price_minor,
            self.limits.unit_price_minor_max,
        )
    }

    /// Every field of a new line.
    pub(crate) fn line(&self, label: &str, line: &NewLine) -> Result<(), Rejection> {
        self.name(&format!("{label} SKU"), &line.sku)?;
        self.note(&format!("{label} spec"), &line.spec)?;
        self.quantity(label, line.quantity)?;
        self.name(&format!("{label} unit"), &line.unit)?;
        self.unit_price(label, line.unit_price_minor)
    }
}
