//! Reading one firewalld XML file: positions for every element and
//! attribute, and errors that name them.

use crate::error::{ErrorKind, ParseError};
use crate::model::Span;

/// One XML file being read: its index among the ruleset's sources (for
/// spans), its path (for errors) and the document.
pub(crate) struct Doc<'a> {
    pub file: u32,
    pub path: &'a str,
    pub doc: roxmltree::Document<'a>,
}

pub(crate) type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

impl<'a> Doc<'a> {
    /// Parses `text`; a malformed file is one error at the place the XML
    /// reader stopped, as firewalld refuses the whole file then.
    pub fn parse(file: u32, path: &'a str, text: &'a str) -> Result<Doc<'a>, ParseError> {
        // firewalld's files carry no DTD; refusing one keeps entity
        // expansion out.
        let options = roxmltree::ParsingOptions {
            allow_dtd: false,
            ..roxmltree::ParsingOptions::default()
        };
        match roxmltree::Document::parse_with_options(text, options) {
            Ok(doc) => Ok(Doc { file, path, doc }),
            Err(e) => {
                let pos = e.pos();
                let start = offset_of(text, pos.row, pos.col);
                Err(ParseError {
                    kind: ErrorKind::Syntax,
                    path: path.to_string(),
                    line: pos.row,
                    column: pos.col,
                    start,
                    end: start,
                    message: format!("malformed XML, firewalld refuses the file: {e}"),
                })
            }
        }
    }

    /// Where an element starts (its `<`) through the end of its start tag's name.
    pub fn span(&self, node: Node) -> Span {
        let range = node.range();
        let end = match node.tag_name().name().len() {
            0 => range.end,
            n => (range.start + 1 + n).min(range.end),
        };
        self.span_of(range.start, end)
    }

    /// Where an attribute's value is, or the element's when it is absent.
    pub fn attr_span(&self, node: Node, name: &str) -> Span {
        match node.attribute_node(name) {
            Some(a) => {
                let r = a.range_value();
                self.span_of(r.start, r.end)
            }
            None => self.span(node),
        }
    }

    fn span_of(&self, start: usize, end: usize) -> Span {
        let pos = self.doc.text_pos_at(start);
        Span {
            file: self.file,
            line: pos.row,
            column: pos.col,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    pub fn error(&self, span: Span, kind: ErrorKind, message: String) -> ParseError {
        ParseError {
            kind,
            path: self.path.to_string(),
            line: span.line,
            column: span.column,
            start: span.start,
            end: span.end,
            message,
        }
    }

    /// An attribute's value, or an error naming the element and the attribute.
    pub fn required<'n>(&self, node: Node<'n, '_>, name: &str) -> Result<&'n str, ParseError> {
        node.attribute(name).ok_or_else(|| {
            self.error(
                self.span(node),
                ErrorKind::MissingArgument,
                format!(
                    "<{}> lacks its `{name}` attribute, which firewalld requires",
                    node.tag_name().name()
                ),
            )
        })
    }

    /// An error at an attribute's value.
    pub fn bad(&self, node: Node, attr: &str, message: String) -> ParseError {
        self.error(self.attr_span(node, attr), ErrorKind::InvalidValue, message)
    }
}

/// The element children of a node (text and comments skipped).
pub(crate) fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|n| n.is_element())
}

/// firewalld's boolean attributes (`invert="yes"`): `yes` or `true`.
pub(crate) fn yes(node: Node, name: &str) -> bool {
    node.attribute(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("yes") || v.eq_ignore_ascii_case("true"))
}

/// The byte offset of a 1-based row and character column.
fn offset_of(text: &str, row: u32, col: u32) -> u32 {
    let mut offset = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == row as usize {
            let chars = line
                .char_indices()
                .nth(col.saturating_sub(1) as usize)
                .map_or(line.len(), |(b, _)| b);
            return u32::try_from(offset + chars).unwrap_or(u32::MAX);
        }
        offset += line.len();
    }
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}
