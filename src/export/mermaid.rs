//! Mermaid `sequenceDiagram` export: participants are the endpoints (ip:port), arrows the PDUs
//! in capture order, a note closes each transaction.

use super::{Timeline, pdu_label, tx_label};
use crate::correlate::PduRole;
use std::collections::HashMap;
use std::io::{self, Write};

/// Make text safe inside a Mermaid sequence diagram line: characters that end a statement or
/// start markup (`;`, `#`, `<`, `>`, `&`, `"`, `%`, `{`, `}`, `|`, `` ` ``, `\`, controls and
/// anything not ASCII) are written as Mermaid entity codes (`#59;`), which Mermaid decodes.
pub fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_ascii_alphanumeric() => out.push(c),
            ' ' | '-' | '_' | '.' | ',' | '/' | '@' | '+' | '=' | '(' | ')' | '[' | ']' | '?'
            | '!' | '*' | '\'' | '$' | ':' => out.push(c),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push_str(&format!("#{};", c as u32)),
        }
    }
    out
}

pub fn write_mermaid(w: &mut dyn Write, t: &Timeline) -> io::Result<()> {
    let rows = t.rows();
    let origin = t.origin();
    writeln!(w, "sequenceDiagram")?;
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (p, _, _) in &rows {
        for ep in [p.src.to_string(), p.dst.to_string()] {
            if !ids.contains_key(&ep) {
                ids.insert(ep.clone(), format!("P{}", order.len()));
                order.push(ep);
            }
        }
    }
    for ep in &order {
        writeln!(w, "    participant {} as {}", ids[ep], mermaid_escape(ep))?;
    }
    // The last record of each transaction, to place its note right after it.
    let mut last_of: HashMap<usize, usize> = HashMap::new();
    for (p, tx, _) in &rows {
        last_of.insert(tx.index, p.index);
    }
    for (p, tx, role) in &rows {
        let (a, b) = (&ids[&p.src.to_string()], &ids[&p.dst.to_string()]);
        let arrow = if p.carrier.is_response { "-->>" } else { "->>" };
        let mut label = format!(
            "{} [f{} +{:.3}s tx {}]",
            pdu_label(p),
            p.frame,
            origin.seconds_until(p.time),
            tx.index
        );
        match role {
            PduRole::Leg { .. } => label.push_str(" (leg)"),
            PduRole::Retransmission { .. } => label.push_str(" (retransmission)"),
            PduRole::First => {}
        }
        writeln!(w, "    {a}{arrow}{b}: {}", mermaid_escape(&label))?;
        if last_of.get(&tx.index) == Some(&p.index) {
            let cols: Vec<usize> = tx
                .endpoints
                .iter()
                .filter_map(|e| order.iter().position(|o| o == e))
                .collect();
            let (lo, hi) = (
                cols.iter().min().copied().unwrap_or(0),
                cols.iter().max().copied().unwrap_or(0),
            );
            let over = if lo == hi {
                format!("P{lo}")
            } else {
                format!("P{lo},P{hi}")
            };
            writeln!(w, "    Note over {over}: {}", mermaid_escape(&tx_label(tx)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_addresses_and_hides_markup() {
        assert_eq!(mermaid_escape("127.0.0.1:80"), "127.0.0.1:80");
        assert_eq!(
            mermaid_escape("<insert-address-token>; #x\n"),
            "#60;insert-address-token#62;#59; #35;x "
        );
        assert_eq!(mermaid_escape("é"), "#233;");
    }
}
