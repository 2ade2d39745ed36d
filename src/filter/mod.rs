//! The filter expression language shared by the CLI and the TUI.
//!
//! (Under construction: the signatures are the contract for the TUI and the CLI.)

use crate::model::{PduRecord, Transaction};

/// A parse error, with the character offset in the expression where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for FilterError {}

/// A compiled filter expression.
#[derive(Debug, Clone)]
pub struct Filter {}

impl Filter {
    pub fn parse(_expr: &str) -> Result<Filter, FilterError> {
        Err(FilterError {
            offset: 0,
            message: "filters are not built yet".into(),
        })
    }

    pub fn matches_pdu(&self, _pdu: &PduRecord) -> bool {
        true
    }

    pub fn matches_transaction(&self, _tx: &Transaction, _pdus: &[PduRecord]) -> bool {
        true
    }
}
