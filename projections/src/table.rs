//! Text tables for the rendered read models, measured in display width (an East Asian wide
//! character counts 2 columns, as a terminal draws it) and laid out to fit a width without ever
//! cutting a cell: a figure, an amount, an id, a tracking number or a name is shown whole or the
//! table is laid out differently.
//!
//! Fitting a table into [`TableWidth::Fit`], in this order, until it fits:
//! 1. every column that has something to show at its natural width (its widest cell or
//!    header);
//! 2. leave out the optional columns, the least important first ([`Column::optional`]; `--wide`
//!    shows them);
//! 3. wrap the wrappable columns ([`Column::wrap`]: free text such as a customer's name) at
//!    spaces onto more lines, never narrower than their longest word;
//! 4. stack: split the remaining columns into blocks that fit, one after the other, each block
//!    repeating the key columns ([`Column::key`]) so that every line says which row it is.

use unicode_width::UnicodeWidthStr;

/// The width a text table is laid out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableWidth {
    /// At most this many display columns, wrapping, leaving out optional columns and stacking
    /// as needed.
    Fit(usize),
    /// Every column at its natural width, however wide (`--wide`).
    Wide,
}

impl TableWidth {
    /// The width of an ordinary terminal window: what tables fit unless told otherwise.
    pub const TERMINAL_COLUMNS: usize = 120;
    /// [`TableWidth::Fit`] of [`TableWidth::TERMINAL_COLUMNS`].
    pub const DEFAULT: TableWidth = TableWidth::Fit(Self::TERMINAL_COLUMNS);

    /// `Wide` when `wide`, else the default.
    pub fn wide_if(wide: bool) -> Self {
        if wide {
            TableWidth::Wide
        } else {
            TableWidth::DEFAULT
        }
    }
}

impl Default for TableWidth {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The display width of `text` in a terminal (wide characters count 2).
pub fn display_width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// How a column's cells are aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: its header, alignment and how it may be laid out when the table is too wide.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub header: &'static str,
    pub align: Align,
    /// Free text that may wrap at spaces.
    pub wrap: bool,
    /// Left out when the table does not fit: the lower, the sooner. `None`: always shown.
    pub optional: Option<u8>,
    /// Repeated in every block when the table is stacked.
    pub key: bool,
}

impl Column {
    /// May wrap at spaces.
    pub const fn wrap(mut self) -> Self {
        self.wrap = true;
        self
    }

    /// Left out, in order of `rank` (lowest first), when the table does not fit.
    pub const fn optional(mut self, rank: u8) -> Self {
        self.optional = Some(rank);
        self
    }

    /// Repeated in every block of a stacked table.
    pub const fn key(mut self) -> Self {
        self.key = true;
        self
    }
}

pub const fn left(header: &'static str) -> Column {
    Column { header, align: Align::Left, wrap: false, optional: None, key: false }
}

pub const fn right(header: &'static str) -> Column {
    Column { header, align: Align::Right, wrap: false, optional: None, key: false }
}

/// Spaces between two columns.
const GAP: usize = 2;
/// The width down to which wrapping free text still reads well; optional columns give way
/// before a wrapped column would have to be narrower.
const COMFORTABLE_WRAP: usize = 20;

fn total(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1)
}

/// A cell's widest line (a cell may hold lines of its own, split at `\n`).
fn cell_width(text: &str) -> usize {
    text.lines().map(display_width).max().unwrap_or(0)
}

fn longest_word(text: &str) -> usize {
    text.split([' ', '\n']).map(display_width).max().unwrap_or(0)
}

/// Word-wraps each of `text`'s lines into lines of at most `width` (a word wider than that gets
/// a line of its own, whole).
fn wrap_text(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for given in text.lines() {
        wrap_line(given, width, &mut lines);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

fn wrap_line(text: &str, width: usize, lines: &mut Vec<String>) {
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && display_width(&line) + 1 + display_width(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
}

fn pad(text: &str, width: usize, align: Align, out: &mut String) {
    let fill = width.saturating_sub(display_width(text));
    match align {
        Align::Left => {
            out.push_str(text);
            out.extend(std::iter::repeat_n(' ', fill));
        }
        Align::Right => {
            out.extend(std::iter::repeat_n(' ', fill));
            out.push_str(text);
        }
    }
}

/// Renders `rows` under a header line to fit `width` (see the module's documentation). Lines
/// carry no trailing spaces. Every row must have one cell per column.
pub fn render(columns: &[Column], rows: &[Vec<String>], width: TableWidth) -> String {
    let natural: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter().map(|r| cell_width(&r[i])).chain([display_width(c.header)]).max().unwrap_or(0)
        })
        .collect();
    let limit = match width {
        TableWidth::Wide => {
            return render_block(columns, rows, &(0..columns.len()).collect::<Vec<_>>(), &natural)
        }
        TableWidth::Fit(limit) => limit,
    };
    // 1. A column with nothing in it says nothing: left out (unless it is a key).
    let mut shown: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].key || rows.iter().any(|r| !r[i].trim().is_empty()))
        .collect();
    let widths_of = |shown: &[usize], w: &[usize]| shown.iter().map(|&i| w[i]).collect::<Vec<_>>();
    let floor: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if c.wrap {
                rows.iter().map(|r| longest_word(&r[i])).chain([display_width(c.header)]).max().unwrap_or(0)
            } else {
                natural[i]
            }
        })
        .collect();
    // 2. Leave out optional columns, least important first, while the table would not fit even
    //    with its free text wrapped to a comfortable width.
    let comfortable: Vec<usize> = (0..columns.len())
        .map(|i| if columns[i].wrap { natural[i].min(floor[i].max(COMFORTABLE_WRAP)) } else { natural[i] })
        .collect();
    let mut optional: Vec<(u8, usize)> =
        columns.iter().enumerate().filter_map(|(i, c)| c.optional.map(|r| (r, i))).collect();
    optional.sort_unstable();
    for (_, i) in optional {
        if total(&widths_of(&shown, &comfortable)) <= limit {
            break;
        }
        shown.retain(|&s| s != i);
    }
    // 3. Wrap: narrow the widest wrappable column by one until it fits or none can narrow.
    let mut widths = natural.clone();
    while total(&widths_of(&shown, &widths)) > limit {
        let Some(&i) = shown.iter().filter(|&&i| widths[i] > floor[i]).max_by_key(|&&i| widths[i] - floor[i])
        else {
            break;
        };
        widths[i] -= 1;
    }
    if total(&widths_of(&shown, &widths)) <= limit {
        return render_block(columns, rows, &shown, &widths);
    }
    // 4. Stack: blocks of columns that fit, each led by the key columns.
    let keys: Vec<usize> = shown.iter().copied().filter(|&i| columns[i].key).collect();
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    let mut block = keys.clone();
    for &i in shown.iter().filter(|&&i| !columns[i].key) {
        let mut candidate = block.clone();
        candidate.push(i);
        if block.len() > keys.len() && total(&widths_of(&candidate, &widths)) > limit {
            blocks.push(std::mem::replace(&mut block, keys.clone()));
            block.push(i);
        } else {
            block = candidate;
        }
    }
    if block.len() > keys.len() || blocks.is_empty() {
        blocks.push(block);
    }
    blocks.iter().map(|b| render_block(columns, rows, b, &widths)).collect::<Vec<_>>().join("\n")
}

/// One block: the header and the rows of the columns `shown`, each at `widths[column]`.
fn render_block(columns: &[Column], rows: &[Vec<String>], shown: &[usize], widths: &[usize]) -> String {
    let mut out = String::new();
    let mut emit = |cells: &[Vec<String>]| {
        let height = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for line_no in 0..height {
            let mut line = String::new();
            for (k, &i) in shown.iter().enumerate() {
                if k > 0 {
                    line.push_str("  ");
                }
                let text = cells[k].get(line_no).map(String::as_str).unwrap_or("");
                pad(text, widths[i], columns[i].align, &mut line);
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    };
    emit(&shown.iter().map(|&i| vec![columns[i].header.to_string()]).collect::<Vec<_>>());
    for row in rows {
        let cells: Vec<Vec<String>> = shown
            .iter()
            .map(|&i| {
                if cell_width(&row[i]) > widths[i] {
                    wrap_text(&row[i], widths[i])
                } else {
                    row[i].lines().map(str::to_string).collect()
                }
            })
            .collect();
        emit(&cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widest(t: &str) -> usize {
        t.lines().map(display_width).max().unwrap_or(0)
    }

    #[test]
    fn cells_are_padded_and_aligned_at_their_natural_width() {
        let cols = [left("NAME"), right("N")];
        let t = render(
            &cols,
            &[vec!["abcdefgh".into(), "7".into()], vec!["ab".into(), "1234".into()]],
            TableWidth::DEFAULT,
        );
        assert_eq!(t, "NAME         N\nabcdefgh     7\nab        1234\n");
    }

    #[test]
    fn wide_characters_count_two_columns() {
        let cols = [left("CUSTOMER"), right("N")];
        let t = render(
            &cols,
            &[vec!["蒙牛乳业".into(), "1".into()], vec!["Acme".into(), "22".into()]],
            TableWidth::DEFAULT,
        );
        assert_eq!(t, "CUSTOMER   N\n蒙牛乳业   1\nAcme      22\n");
    }

    #[test]
    fn optional_columns_go_first_then_text_wraps_then_blocks_stack() {
        let cols = [left("ID").key(), left("NOTE").wrap(), left("EXTRA").optional(0), right("AMOUNT")];
        let rows =
            vec![vec!["a1".into(), "one two three four".into(), "xxxxxxxx".into(), "1234.50 CNY".into()]];
        let all = render(&cols, &rows, TableWidth::Wide);
        assert!(all.contains("EXTRA") && all.contains("one two three four"));
        // Without EXTRA it is 2+2+18+2+11 = 35 wide.
        let t = render(&cols, &rows, TableWidth::Fit(35));
        assert!(!t.contains("EXTRA") && t.contains("one two three four"), "{t}");
        let t = render(&cols, &rows, TableWidth::Fit(28));
        assert_eq!(t, "ID  NOTE              AMOUNT\na1  one two      1234.50 CNY\n    three four\n");
        assert!(widest(&t) <= 28);
        // Narrower than the longest word allows: stacked, the key column in each block.
        let t = render(&cols, &rows, TableWidth::Fit(12));
        assert_eq!(
            t,
            "ID  NOTE\na1  one\n    two\n    three\n    four\n\nID       AMOUNT\na1  1234.50 CNY\n"
        );
        for cell in ["a1", "three", "1234.50 CNY"] {
            assert!(t.contains(cell), "{cell} cut in {t}");
        }
    }
}
