//! Line and column of a byte offset, for the spans of every parser.
//!
//! One index for all formats, so that a column means the same thing in an
//! iptables error, an nft error and an `nft -j` error: lines are 1-based and
//! split at `\n`, columns are 1-based and count characters, not bytes.
//!
//! Parsers ask for positions mostly in the order of their offsets, and a
//! file can be one long line (`nft -j` prints the whole ruleset on one), so
//! the index remembers its last answer: the next offset is looked for on
//! that line or the next before a search, and its column is counted on from
//! the last one instead of from the start of its line.

use std::cell::Cell;

/// The line starts of one text, and the last position asked for.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// The byte offset of each line's start; the first is 0.
    starts: Vec<u32>,
    /// The last position asked for: its offset, line index and column, so
    /// the next one in order is found without a search or a recount.
    last: Cell<Last>,
}

#[derive(Clone, Copy)]
struct Last {
    offset: usize,
    line: usize,
    column: usize,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0u32];
        starts.extend(
            memchr::memchr_iter(b'\n', text.as_bytes())
                .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        LineIndex {
            text,
            starts,
            last: Cell::new(Last {
                offset: 0,
                line: 0,
                column: 1,
            }),
        }
    }

    /// How many lines the text has: one more than its `\n`s.
    pub(crate) fn line_count(&self) -> u32 {
        u32::try_from(self.starts.len()).unwrap_or(u32::MAX)
    }

    /// The start offset and text (without its `\n`) of line `index`,
    /// counted from 0: the lines `str::split('\n')` gives, for a parser
    /// that reads line by line.
    pub(crate) fn line(&self, index: usize) -> Option<(usize, &'a str)> {
        let start = *self.starts.get(index)? as usize;
        let end = self
            .starts
            .get(index + 1)
            .map_or(self.text.len(), |&next| (next as usize).saturating_sub(1));
        Some((start, self.text.get(start..end)?))
    }

    /// The 1-based line and column of the character at byte `offset`. An
    /// offset inside a character is that character's; one past the end is
    /// the end of the text.
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let last = self.last.get();
        let on = |i: usize| {
            self.starts.get(i).is_some_and(|&s| s as usize <= offset)
                && self.starts.get(i + 1).is_none_or(|&s| s as usize > offset)
        };
        let line = if on(last.line) {
            last.line
        } else if on(last.line + 1) {
            last.line + 1
        } else {
            self.starts
                .partition_point(|&s| s as usize <= offset)
                .saturating_sub(1)
        };
        let (from, column) = if line == last.line && last.offset <= offset {
            (last.offset, last.column)
        } else {
            (self.starts.get(line).map_or(0, |&s| s as usize), 1)
        };
        let column = column + self.text.get(from..offset).map_or(0, chars_in);
        self.last.set(Last {
            offset,
            line,
            column,
        });
        (
            u32::try_from(line + 1).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// The byte offset of a 1-based line and a 1-based column counted in
    /// bytes (as serde_json reports them), at a character boundary and at
    /// most the end of the text.
    pub(crate) fn offset_of(&self, line: usize, byte_column: usize) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let mut at = (start as usize + byte_column.saturating_sub(1)).min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }
}

/// The characters of a text. Most spans are short, often empty: a plain
/// loop over the bytes that begin a character beats the setup of the
/// chunked count `chars().count()` does for long texts.
fn chars_in(s: &str) -> usize {
    if s.len() < 32 {
        // A byte that begins a character is not 0b10xx_xxxx.
        s.bytes().filter(|&b| (b as i8) >= -0x40).count()
    } else {
        s.chars().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line and column counted the slow way, character by character: those
    /// of the character `offset` is in.
    fn counted(text: &str, offset: usize) -> (u32, u32) {
        let (mut line, mut column) = (1, 1);
        for (i, c) in text.char_indices() {
            if i + c.len_utf8() > offset {
                break;
            }
            if c == '\n' {
                (line, column) = (line + 1, 1);
            } else {
                column += 1;
            }
        }
        (line, column)
    }

    const TEXTS: &[&str] = &[
        "",
        "\n",
        "one line",
        "a\nbc\n\ndé f\n",
        "é\n\u{1F525} x\r\n  tab\tend",
        "{\"nftables\": [{\"rule\": {}}, {\"rule\": {}}]}",
    ];

    #[test]
    fn positions_in_order_are_counted_positions() {
        for text in TEXTS {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    index.position(offset),
                    counted(text, offset.min(text.len())),
                    "{text:?} at {offset}"
                );
            }
        }
    }

    #[test]
    fn positions_in_any_order_are_counted_positions() {
        for text in TEXTS {
            let index = LineIndex::new(text);
            let len = text.len();
            // Backwards, then jumping about: the remembered position must not leak.
            let order: Vec<usize> = (0..=len)
                .rev()
                .chain((0..=len).map(|i| (i * 7 + 3) % (len + 1)))
                .collect();
            for offset in order {
                let want = counted(text, offset);
                assert_eq!(index.position(offset), want, "{text:?} at {offset}");
            }
        }
    }

    #[test]
    fn an_offset_inside_a_character_is_that_character() {
        let index = LineIndex::new("aé b");
        assert_eq!(index.position(2), (1, 2));
        assert_eq!(index.position(3), (1, 3));
    }

    #[test]
    fn lines_are_counted_like_str_split() {
        for text in TEXTS {
            assert_eq!(
                LineIndex::new(text).line_count() as usize,
                text.split('\n').count(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn byte_columns_become_offsets() {
        let text = "ab\ncdé\nf";
        let index = LineIndex::new(text);
        assert_eq!(index.offset_of(1, 1), 0);
        assert_eq!(index.offset_of(2, 2), 4);
        // Inside `é`: back to its start.
        assert_eq!(index.offset_of(2, 4), 5);
        assert_eq!(index.offset_of(3, 1), 8);
        assert_eq!(index.offset_of(3, 99), text.len());
        assert_eq!(index.offset_of(9, 1), text.len());
        assert_eq!(index.offset_of(0, 0), 0);
    }

    #[test]
    fn lines_split_like_str_split() {
        let texts = [
            "",
            "\n",
            "a",
            "a\n",
            "\n\nb",
            "one line\r\ntwo é lines\n\nthree",
            "0123456789abcdef\n0123456\n\n01234567\n",
        ];
        for text in texts {
            assert_eq!(
                (0..)
                    .map_while(|i| LineIndex::new(text).line(i).map(|(_, l)| l))
                    .collect::<Vec<_>>(),
                text.split('\n').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn line_starts_are_the_offsets_of_the_lines() {
        let text = "ab\n\ncdé\nf";
        let index = LineIndex::new(text);
        let lines: Vec<(usize, &str)> = (0..).map_while(|i| index.line(i)).collect();
        assert_eq!(lines, vec![(0, "ab"), (3, ""), (4, "cdé"), (9, "f")]);
    }
}
