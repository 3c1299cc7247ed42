//! `index.html`: one self-contained page — inline CSS, every figure as a
//! base64 PNG data URI, no script and no external reference — so it reads
//! offline and can be mailed as one file.

use std::fmt::Write as _;

use super::Section;
use super::png::base64;
use super::tables::Table;

/// Escapes text for HTML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1060px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #ccc;padding-bottom:.2em}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .6em}\
td{text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f2f2f2}\
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.9em;color:#444}\
.notes{background:#fff6e0;border-left:4px solid #e69f00;padding:.5em 1em}";

fn table(out: &mut String, t: &Table) {
    out.push_str("<table><thead><tr>");
    for h in &t.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            let _ = write!(out, "<td>{}</td>", escape(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

/// The HTML page of every section.
pub fn page(sections: &[Section]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>HCP Twin sweep report</title><style>{STYLE}</style></head><body>\n<h1>HCP Twin sweep report</h1>\n"
    );
    for s in sections {
        let _ = writeln!(out, "<h2>Scenario {}</h2>", escape(&s.data.name));
        let _ = writeln!(out, "<p>{}</p>", escape(&s.header_line()));
        if !s.data.notes.is_empty() {
            out.push_str(
                "<div class=\"notes\"><strong>What is missing or odd in this dataset:</strong><ul>",
            );
            for n in &s.data.notes {
                let _ = write!(out, "<li>{}</li>", escape(n));
            }
            out.push_str("</ul></div>\n");
        }
        let _ = writeln!(
            out,
            "<h3>Comparison (USD {}, 95 % Student-t CIs; uplift paired by replication)</h3>",
            escape(&s.per_run)
        );
        table(&mut out, &s.comparison);
        let _ = writeln!(
            out,
            "<h3>Revenue and cost by stream (mean USD {})</h3>",
            escape(&s.per_run)
        );
        table(&mut out, &s.streams);
        if let Some(split) = &s.regret_split {
            let _ = writeln!(
                out,
                "<h3>What mpc's regret is made of (USD {}; paired by replication; mpc-clairvoyant is mpc shown the true prices, a diagnostic)</h3>",
                escape(&s.per_run)
            );
            table(&mut out, split);
        }
        for f in &s.figures {
            let _ = writeln!(
                out,
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption><strong>{}</strong> {} (files: {name}.svg, {name}.png)</figcaption></figure>",
                escape(&f.title),
                base64(&f.png),
                escape(&f.finding),
                escape(&f.caption),
                name = escape(&f.name)
            );
        }
    }
    out.push_str("</body></html>\n");
    out
}
