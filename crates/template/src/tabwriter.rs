//! Go's `text/tabwriter` with a space pad character and no flags, the
//! way the Docker CLI aligns its tables (`NewWriter(out, 10, 1, 3, ' ', 0)`)
//! and `docker top` (`20, 1, 3`), `docker version` (`20, 1, 1`).
//!
//! Cells end with a tab; the text after a line's last tab is not part of
//! a column and is not padded. A column is as wide as its widest cell
//! plus the padding (at least the minimum width), over each block of
//! consecutive lines that have that column; a line without a tab ends
//! all blocks. Widths count characters (runes), as Go does.

#[derive(Clone, Debug)]
struct Cell {
    text: String,
    width: usize,
}

pub struct TabWriter {
    minwidth: usize,
    padding: usize,
    lines: Vec<Vec<Cell>>,
    cell: String,
    out: String,
    widths: Vec<usize>,
}

impl TabWriter {
    pub fn new(minwidth: usize, padding: usize) -> TabWriter {
        TabWriter {
            minwidth,
            padding,
            lines: vec![Vec::new()],
            cell: String::new(),
            out: String::new(),
            widths: Vec::new(),
        }
    }

    fn terminate_cell(&mut self) -> usize {
        let text = std::mem::take(&mut self.cell);
        let width = text.chars().count();
        let line = self.lines.last_mut().expect("a current line");
        line.push(Cell { text, width });
        line.len()
    }

    pub fn write(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '\t' | '\x0b' => {
                    self.terminate_cell();
                }
                '\n' | '\x0c' => {
                    let cells = self.terminate_cell();
                    self.lines.push(Vec::new());
                    if c == '\x0c' || cells == 1 {
                        self.flush();
                    }
                }
                c => self.cell.push(c),
            }
        }
    }

    fn flush(&mut self) {
        if !self.cell.is_empty() {
            self.terminate_cell();
        }
        let n = self.lines.len();
        self.format(0, n);
        self.lines = vec![Vec::new()];
    }

    /// Flushes and returns everything written.
    pub fn finish(mut self) -> String {
        self.flush();
        self.out
    }

    fn format(&mut self, mut line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            self.write_lines(line0, this);
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 && column + 1 < self.lines[this].len() {
                width = width.max(self.lines[this][column].width + self.padding);
                this += 1;
            }
            self.widths.push(width);
            self.format(line0, this);
            self.widths.pop();
            line0 = this;
            this += 1;
        }
        self.write_lines(line0, line1);
    }

    fn write_lines(&mut self, line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, c) in self.lines[i].iter().enumerate() {
                self.out.push_str(&c.text);
                if let Some(w) = self.widths.get(j) {
                    self.out
                        .extend(std::iter::repeat_n(' ', w.saturating_sub(c.width)));
                }
            }
            if i + 1 < self.lines.len() {
                self.out.push('\n');
            }
        }
    }
}

/// Aligns `text` (cells ending with tabs) as Docker's tables.
pub fn align(text: &str, minwidth: usize, padding: usize) -> String {
    let mut w = TabWriter::new(minwidth, padding);
    w.write(text);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn like_go() {
        assert_eq!(
            align(
                "NAME\tDESCRIPTION\tX\ndefault\tCurrent config\tunix:///x\n",
                10,
                3
            ),
            "NAME      DESCRIPTION      X\ndefault   Current config   unix:///x\n"
        );
        // Empty last cells leave the padding of the cell before them.
        assert_eq!(align("a\tb\nccc\t\n", 1, 3), "a     b\nccc   \n");
        // A line without tabs ends the column blocks.
        assert_eq!(
            align("a\tb\nlong text\nabcdefgh\tc\n", 1, 1),
            "a b\nlong text\nabcdefgh c\n"
        );
        // Runes, not bytes.
        assert_eq!(align("é\tx\nab\ty\n", 1, 1), "é  x\nab y\n");
        assert_eq!(align("no newline\tat end", 1, 1), "no newline at end");
    }
}
