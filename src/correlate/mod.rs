//! Correlation of MMS PDUs into transactions (OMA-MMS-CTR).
//!
//! (Under construction: the signature is the contract for the TUI and the CLI.)

use crate::model::{PduRecord, Transaction};

/// Group `pdus` (in capture order) into transactions.
pub fn correlate(_pdus: &[PduRecord]) -> Vec<Transaction> {
    Vec::new()
}
