//! Plain-text and Markdown tables.

/// Columns padded to their widest cell; numbers (digits with `,.%×-+e`)
/// and `-` right-aligned.
pub fn text(headers: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            let cells = rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count());
            cells.chain([headers[c].chars().count()]).max().unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| {
                let numeric = cell.chars().any(|ch| ch.is_ascii_digit())
                    && cell
                        .chars()
                        .all(|ch| ch.is_ascii_digit() || ",.%×-+e".contains(ch));
                pad(cell, w, numeric)
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    out.push(
        widths
            .iter()
            .map(|&w| "-".repeat(w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n") + "\n"
}

/// `cell` padded with spaces to `width` characters, on the left when
/// `right` (by hand: `format!`'s width panics above 65,535).
fn pad(cell: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(cell.chars().count()));
    if right {
        fill + cell
    } else {
        format!("{cell}{fill}")
    }
}

/// A GitHub-flavoured Markdown table.
pub fn markdown(headers: &[&str], rows: &[Vec<String>]) -> String {
    let row = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
    let mut out = vec![row(headers.iter().map(|h| h.replace('|', "\\|")).collect())];
    out.push(row(headers.iter().map(|_| "---".to_string()).collect()));
    out.extend(
        rows.iter()
            .map(|r| row(r.iter().map(|c| c.replace('|', "\\|")).collect())),
    );
    out.join("\n") + "\n"
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits: Vec<char> = n.to_string().chars().collect();
    let groups: Vec<String> = digits
        .rchunks(3)
        .rev()
        .map(|g| g.iter().collect())
        .collect();
    groups.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_markdown_layout() {
        let rows = vec![
            vec!["a".to_string(), "10".to_string()],
            vec!["bcd".into(), "5".into()],
        ];
        let t = text(&["name", "n"], &rows);
        assert_eq!(t, "name  n\n----  --\na     10\nbcd    5\n");
        let m = markdown(&["name", "n"], &rows);
        assert!(m.starts_with("| name | n |\n| --- | --- |\n| a | 10 |"));
    }

    #[test]
    fn cells_wider_than_65535_characters_are_padded_not_a_panic() {
        let long = "n".repeat(70_000);
        let rows = vec![
            vec![long.clone(), "1".into()],
            vec!["a".into(), "22".into()],
        ];
        let t = text(&["name", "n"], &rows);
        let last = t.lines().last().unwrap();
        assert_eq!(last.chars().count(), 70_000 + 2 + 2);
        assert!(last.starts_with('a') && last.ends_with("22"));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(231_211_008), "231,211,008");
    }
}
