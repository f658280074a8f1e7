//! Fixed-width text tables for the rendered read models.

/// How a column's cells are aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A column: its header, its width in characters and its alignment. Longer cells are cut and
/// end in `~`. Width 0: the cell is written as it is (for the last column).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    pub(crate) header: &'static str,
    pub(crate) width: usize,
    pub(crate) align: Align,
}

pub(crate) const fn left(header: &'static str, width: usize) -> Column {
    Column { header, width, align: Align::Left }
}

pub(crate) const fn free(header: &'static str) -> Column {
    Column { header, width: 0, align: Align::Left }
}

pub(crate) const fn right(header: &'static str, width: usize) -> Column {
    Column { header, width, align: Align::Right }
}

fn cell(text: &str, col: &Column, out: &mut String) {
    if col.width == 0 {
        out.push_str(text);
        return;
    }
    let n = text.chars().count();
    let shown: String = if n > col.width {
        text.chars().take(col.width.saturating_sub(1)).chain(std::iter::once('~')).collect()
    } else {
        text.to_string()
    };
    let pad = col.width.saturating_sub(shown.chars().count());
    match col.align {
        Align::Left => {
            out.push_str(&shown);
            out.extend(std::iter::repeat_n(' ', pad));
        }
        Align::Right => {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&shown);
        }
    }
}

/// Renders a header line and one line per row; columns are separated by two spaces and lines
/// carry no trailing spaces.
pub(crate) fn render(columns: &[Column], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = (&Column, &str)>| {
        let mut l = String::new();
        for (i, (col, text)) in cells.enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            cell(text, col, &mut l);
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut columns.iter().map(|c| (c, c.header)));
    for row in rows {
        line(&mut columns.iter().zip(row.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_padded_cut_and_aligned() {
        let cols = [left("NAME", 5), right("N", 3)];
        let t = render(&cols, &[vec!["abcdefgh".into(), "7".into()], vec!["ab".into(), "1234".into()]]);
        assert_eq!(t, "NAME     N\nabcd~    7\nab     12~\n");
    }
}
