//! Text extracts split into blocks of whole records and parsed into string
//! columns, with the line each record starts on and what is structurally wrong
//! with it (field count, encoding, quoting, short fixed-width lines).
//!
//! Blocks are cut on record boundaries by one reader ([`Splitter`]) and parsed
//! in parallel; nothing here interprets values — typing and cleansing are
//! DataFusion expressions applied afterwards (`rules`).

use std::borrow::Cow;
use std::io::Read;

use deltalake::arrow::array::StringBuilder;

use crate::project::{FileFormat, SourceTable, TextEncoding};

/// How one table's records are laid out.
#[derive(Debug, Clone)]
pub struct Layout {
    kind: Kind,
    encoding: Option<&'static encoding_rs::Encoding>,
    encoding_name: &'static str,
    columns: usize,
    /// Per column: strip spaces around the value as the field is cut (the `trim` rule).
    trim: Vec<bool>,
    /// How many bytes a record's quote may stay open ([`QUOTE_LIMIT`]).
    quote_limit: usize,
    /// The delimiter as the file's bytes, and how wide the file's characters are: what
    /// [`record_end`] needs to find where a field starts without decoding.
    file_delimiter: Vec<u8>,
    width: Width,
}

/// How many bytes a character of the file takes, for walking its bytes without
/// decoding them: a GBK or GB18030 character's second byte can be a `|` or `@`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Width {
    /// UTF-8: a delimiter never matches inside a character, so bytes can be searched.
    Utf8,
    Gbk,
    Gb18030,
}

impl Width {
    fn of(encoding: Option<&'static encoding_rs::Encoding>) -> Width {
        match encoding {
            Some(e) if e == encoding_rs::GB18030 => Width::Gb18030,
            Some(_) => Width::Gbk,
            None => Width::Utf8,
        }
    }

    /// The length of the character that starts at `bytes[i]`.
    fn at(self, bytes: &[u8], i: usize) -> usize {
        match self {
            Width::Utf8 => 1,
            // ASCII, and 0x80 (the euro sign in code page 936, one byte) or 0xFF.
            _ if !(0x81..=0xFE).contains(&bytes[i]) => 1,
            Width::Gb18030 if matches!(bytes.get(i + 1), Some(0x30..=0x39)) => 4,
            _ => 2,
        }
    }
}

/// The delimiter as it is written in a file of `encoding`.
fn encoded(delimiter: &str, encoding: Option<&'static encoding_rs::Encoding>) -> Vec<u8> {
    match encoding {
        Some(e) => match e.encode(delimiter) {
            (bytes, _, false) => bytes.into_owned(),
            // Not writable in the file's encoding: it never matches.
            _ => delimiter.as_bytes().to_vec(),
        },
        None => delimiter.as_bytes().to_vec(),
    }
}

/// How far past a record's start a quote may stay open. A quoted field may hold line
/// breaks, but a record whose quote is still open this many bytes after it starts, or
/// at the end of the file, is taken to end at its first line break and is rejected
/// (rule `quote`); the next line is read as a record of its own. A stray quote then
/// costs its own line, not every line up to the next quote in the file (which may be
/// all of it: one rejected record, the file held whole in memory), and a block holds
/// at most this much more than its size.
pub const QUOTE_LIMIT: usize = 1 << 20;

/// The longest line read: a file with no line break in this many bytes is not read
/// further (its table fails, naming the line), rather than held whole in memory — a
/// file whose lines end in `\r` alone, or that is not text at all.
pub const LINE_LIMIT: usize = 64 << 20;

/// Where a record ends ([`record_end`]).
#[derive(Debug, PartialEq)]
enum End {
    /// At `end`: its line break, or the end of the bytes when the file ends without
    /// one. `forced`: its quote never closed, so it ends at its first line break.
    At { end: usize, forced: bool },
    /// Not known before more of the file is read.
    Open,
}

/// What finding where a quoted record ends needs to know of the layout.
#[derive(Clone, Copy)]
struct Scan<'a> {
    quote: u8,
    delimiter: &'a [u8],
    width: Width,
}

impl Scan<'_> {
    /// Where the field that `bytes[p]` is in starts: past every delimiter from `from`
    /// (the start of a field) up to `p`, read left to right as [`split_fields`] does.
    fn field_start(&self, bytes: &[u8], from: usize, p: usize) -> usize {
        let d = self.delimiter;
        let mut start = from;
        if d.is_empty() {
            return start;
        }
        match self.width {
            Width::Utf8 => {
                while let Some(i) = memchr::memmem::find(&bytes[start..p], d) {
                    start += i + d.len();
                }
            }
            width => {
                let mut i = from;
                while i < p {
                    if bytes[i..p].starts_with(d) {
                        i += d.len();
                        start = i;
                    } else {
                        i += width.at(bytes, i);
                    }
                }
            }
        }
        start
    }
}

/// Where the record that starts at `start` of `bytes` ends: at the next line break
/// outside quotes. A quote opens a quoted field only where the field starts (after
/// the delimiter and any spaces, the delimiters found left to right in the file's
/// characters, as [`split_fields`] reads the decoded record) and is closed by the next
/// single quote (`""` is a quote inside). With a quote still open `limit` bytes after
/// the record starts, or at the end of a `complete` file, the record ends at its
/// first line break instead ([`QUOTE_LIMIT`]).
fn record_end(bytes: &[u8], start: usize, scan: Scan, complete: bool, limit: usize) -> End {
    let quote = scan.quote;
    let window = bytes.len().min(start.saturating_add(limit));
    // A line break at or after `from`, else the end of a complete file.
    let line_end = |from: usize| match memchr::memchr(b'\n', &bytes[from.min(bytes.len())..]) {
        Some(i) => End::At {
            end: from + i,
            forced: false,
        },
        None if complete => End::At {
            end: bytes.len(),
            forced: false,
        },
        None => End::Open,
    };
    let mut in_quote = false;
    // Where the current field starts, or a closed quoted field ended: its delimiters
    // are looked for from there.
    let mut field = start;
    let mut i = start;
    while i < window {
        let Some(p) = memchr::memchr2(quote, b'\n', &bytes[i..window]).map(|p| i + p) else {
            break;
        };
        i = p + 1;
        if bytes[p] == b'\n' {
            if !in_quote {
                return End::At { end: p, forced: false };
            }
        } else if in_quote {
            match bytes.get(p + 1) {
                Some(&b) if b == quote => i = p + 2,
                None if !complete => return End::Open,
                _ => {
                    in_quote = false;
                    field = p + 1;
                }
            }
        } else {
            field = scan.field_start(bytes, field, p);
            in_quote = bytes[field..p].iter().all(|&b| b == b' ');
        }
    }
    match (in_quote, window < bytes.len() || complete) {
        // A quote still open past the limit, or at the end of the file.
        (true, true) => match line_end(start) {
            End::At { end, .. } => End::At { end, forced: true },
            End::Open => End::Open,
        },
        (true, false) => End::Open,
        // No quote open and no line break within the limit: a long line.
        (false, _) => line_end(window),
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Delimited {
        delimiter: String,
        quote: Option<u8>,
    },
    /// Byte offset and length per column; the shortest acceptable line.
    Fixed {
        positions: Vec<(usize, usize)>,
        min_len: usize,
    },
}

impl Layout {
    /// The layout of a text extract; None for Parquet.
    pub fn of(table: &SourceTable) -> Option<Layout> {
        let kind = match &table.format {
            FileFormat::Delimited { delimiter, quote, .. } => Kind::Delimited {
                delimiter: delimiter.clone(),
                quote: quote.map(|q| q as u8),
            },
            FileFormat::Fixed => {
                let positions: Vec<(usize, usize)> =
                    table.columns.iter().map(|c| c.position.unwrap_or((0, 0))).collect();
                let min_len = positions.iter().map(|(s, l)| s + l).max().unwrap_or(0);
                Kind::Fixed { positions, min_len }
            }
            FileFormat::Parquet => return None,
        };
        let encoding = match table.encoding {
            TextEncoding::Utf8 => None,
            TextEncoding::Gbk => Some(encoding_rs::GBK),
            TextEncoding::Gb18030 => Some(encoding_rs::GB18030),
        };
        let file_delimiter = match &kind {
            Kind::Delimited { delimiter, .. } => encoded(delimiter, encoding),
            Kind::Fixed { .. } => Vec::new(),
        };
        Some(Layout {
            kind,
            encoding,
            encoding_name: table.encoding.name(),
            columns: table.columns.len(),
            trim: table.columns.iter().map(|c| c.trim).collect(),
            quote_limit: QUOTE_LIMIT,
            file_delimiter,
            width: Width::of(encoding),
        })
    }

    fn quote(&self) -> Option<u8> {
        match &self.kind {
            Kind::Delimited { quote, .. } => *quote,
            Kind::Fixed { .. } => None,
        }
    }

    /// What [`record_end`] needs, when records may be quoted.
    fn scan(&self) -> Option<Scan<'_>> {
        Some(Scan {
            quote: self.quote()?,
            delimiter: &self.file_delimiter,
            width: self.width,
        })
    }

    /// Decode a whole record; Err carries the 1-based byte of the first invalid sequence.
    fn decode<'a>(&self, bytes: &'a [u8]) -> Result<Cow<'a, str>, usize> {
        decode(self.encoding, bytes)
    }

    /// A record as text for a reject row, invalid bytes replaced.
    pub fn lossy(&self, bytes: &[u8]) -> String {
        match self.encoding {
            None => String::from_utf8_lossy(bytes).into_owned(),
            Some(enc) => enc.decode_without_bom_handling(bytes).0.into_owned(),
        }
    }

    fn encoding_error(&self, byte: usize) -> (&'static str, String) {
        (
            "encoding",
            format!("invalid {} at byte {byte} of the line", self.encoding_name),
        )
    }

    /// The field names of a header line.
    pub fn header_fields(&self, line: &[u8]) -> Result<Vec<String>, String> {
        let text = self
            .decode(line)
            .map_err(|b| format!("line 1 is not valid {} (byte {b})", self.encoding_name))?;
        let text = text.trim_start_matches('\u{feff}');
        match &self.kind {
            Kind::Delimited { delimiter, quote } => Ok(split_fields(text, delimiter, quote.map(char::from))
                .map_err(|e| format!("line 1: {e}"))?
                .into_iter()
                .map(|f| f.trim().to_string())
                .collect()),
            Kind::Fixed { .. } => Ok(vec![text.to_string()]),
        }
    }
}

fn decode<'a>(encoding: Option<&'static encoding_rs::Encoding>, bytes: &'a [u8]) -> Result<Cow<'a, str>, usize> {
    match encoding {
        None => std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|e| e.valid_up_to() + 1),
        Some(enc) => {
            if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes) {
                return Ok(text);
            }
            // Find where: decode again, stopping at the first malformed sequence.
            let mut decoder = enc.new_decoder_without_bom_handling();
            let mut out = String::with_capacity(bytes.len() * 3);
            let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
            match result {
                encoding_rs::DecoderResult::Malformed(bad, extra) => {
                    Err(read.saturating_sub(bad as usize + extra as usize) + 1)
                }
                _ => Err(read + 1),
            }
        }
    }
}

/// Split one decoded record into fields. With a quote character, a quoted field
/// may hold the delimiter, doubled quotes and line breaks.
fn split_fields<'a>(text: &'a str, delimiter: &str, quote: Option<char>) -> Result<Vec<Cow<'a, str>>, String> {
    let Some(q) = quote else {
        return Ok(text.split(delimiter).map(Cow::Borrowed).collect());
    };
    let mut fields = Vec::new();
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        if let Some(inner) = trimmed.strip_prefix(q) {
            // Quoted field: up to the closing quote that is not doubled.
            let mut value = String::new();
            let mut chars = inner.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == q {
                    if inner[i + 1..].starts_with(q) {
                        value.push(q);
                        chars.next();
                    } else {
                        end = Some(i + 1);
                        break;
                    }
                } else {
                    value.push(c);
                }
            }
            let Some(end) = end else {
                return Err("unterminated quoted field".into());
            };
            let after = inner[end..].trim_start_matches(' ');
            fields.push(Cow::Owned(value));
            if after.is_empty() {
                return Ok(fields);
            }
            match after.strip_prefix(delimiter) {
                Some(next) => rest = next,
                None => return Err("text after a closing quote".into()),
            }
        } else {
            match rest.find(delimiter) {
                Some(i) => {
                    fields.push(Cow::Borrowed(&rest[..i]));
                    rest = &rest[i + delimiter.len()..];
                }
                None => {
                    fields.push(Cow::Borrowed(rest));
                    return Ok(fields);
                }
            }
        }
    }
}

/// A run of whole records cut from the file.
pub struct Block {
    pub bytes: Vec<u8>,
    /// The physical line the block's first byte is on (1-based).
    pub first_line: u64,
    /// The file offset of the block's first byte.
    pub offset: u64,
    /// The block ends the file.
    pub at_eof: bool,
}

/// Reads a file and cuts it into blocks that end on a record boundary (a line
/// break outside quotes), counting lines as it goes.
pub struct Splitter {
    file: Box<dyn Read + Send>,
    carry: Vec<u8>,
    line: u64,
    offset: u64,
    eof: bool,
    layout: Layout,
    /// Whether a byte-order mark was looked for at the start of the file.
    bom_checked: bool,
    line_limit: usize,
    block_size: usize,
    pub bytes_read: u64,
}

impl Splitter {
    pub fn new(file: Box<dyn Read + Send>, layout: &Layout, block_size: usize) -> Splitter {
        Splitter {
            file,
            carry: Vec::new(),
            line: 1,
            offset: 0,
            eof: false,
            layout: layout.clone(),
            bom_checked: false,
            line_limit: LINE_LIMIT,
            block_size,
            bytes_read: 0,
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        let start = self.carry.len();
        self.carry.resize(start + self.block_size, 0);
        let mut filled = start;
        while filled < self.carry.len() {
            let n = self.file.read(&mut self.carry[filled..])?;
            if n == 0 {
                self.eof = true;
                break;
            }
            filled += n;
        }
        self.bytes_read += (filled - start) as u64;
        self.carry.truncate(filled);
        // A byte-order mark, once three bytes are read (or the file ends before).
        if !self.bom_checked && self.offset == 0 && (self.carry.len() >= 3 || self.eof) {
            self.bom_checked = true;
            if self.carry.starts_with(b"\xEF\xBB\xBF") {
                self.carry.drain(..3);
                self.offset = 3;
            }
        }
        Ok(())
    }

    /// The end of the last whole record in `carry` (just past its line break), if any.
    fn boundary(&self, first_only: bool) -> Option<usize> {
        // Without a quote in sight every line break ends a record.
        match self
            .layout
            .scan()
            .filter(|s| memchr::memchr(s.quote, &self.carry).is_some())
        {
            None if first_only => memchr::memchr(b'\n', &self.carry).map(|i| i + 1),
            None => memchr::memrchr(b'\n', &self.carry).map(|i| i + 1),
            Some(scan) => {
                let mut last = None;
                let mut start = 0;
                while let End::At { end, .. } = record_end(&self.carry, start, scan, self.eof, self.layout.quote_limit)
                {
                    if end == self.carry.len() {
                        break;
                    }
                    start = end + 1;
                    last = Some(start);
                    if first_only {
                        break;
                    }
                }
                last
            }
        }
    }

    /// The next block, or None at the end of the file.
    pub fn next_block(&mut self) -> std::io::Result<Option<Block>> {
        self.cut(false)
    }

    /// The first record alone (a header line), without its line break.
    pub fn first_record(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        Ok(self.cut(true)?.map(|b| {
            let mut bytes = b.bytes;
            while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                bytes.pop();
            }
            bytes
        }))
    }

    fn cut(&mut self, first_only: bool) -> std::io::Result<Option<Block>> {
        loop {
            let full = self.eof || self.carry.len() >= self.block_size;
            let boundary = if full { self.boundary(first_only) } else { None };
            if !self.eof && boundary.is_none() {
                if self.carry.len() >= self.block_size + self.line_limit {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "line {} has no line break in {} MiB; lines must end with \\n or \\r\\n \
                             (are they ended by \\r alone, or is the file not text?)",
                            self.line,
                            self.line_limit >> 20
                        ),
                    ));
                }
                self.fill()?;
                continue;
            }
            if self.carry.is_empty() {
                return Ok(None);
            }
            let (end, at_eof) = match boundary {
                Some(end) => (end, self.eof && end == self.carry.len()),
                None => (self.carry.len(), true),
            };
            let rest = self.carry.split_off(end);
            let bytes = std::mem::replace(&mut self.carry, rest);
            let block = Block {
                first_line: self.line,
                offset: self.offset,
                at_eof,
                bytes,
            };
            self.line += memchr::memchr_iter(b'\n', &block.bytes).count() as u64;
            self.offset += block.bytes.len() as u64;
            return Ok(Some(block));
        }
    }
}

/// A block parsed into string columns.
pub struct Parsed {
    pub columns: Vec<StringBuilder>,
    /// Physical line each record starts on.
    pub lines: Vec<i64>,
    /// File offset of each record.
    pub offsets: Vec<i64>,
    /// Each record's byte range in the block (line break excluded).
    pub ranges: Vec<(usize, usize)>,
    /// Records that cannot be split into fields: (record index, rule, reason).
    pub broken: Vec<(usize, &'static str, String)>,
}

/// Split `block` into records and fields.
pub fn parse(layout: &Layout, block: &Block) -> Parsed {
    let bytes = &block.bytes[..];
    let mut parsed = Parsed {
        columns: (0..layout.columns)
            .map(|_| StringBuilder::with_capacity(bytes.len() / 64 + 1, bytes.len() / layout.columns.max(1) + 64))
            .collect(),
        lines: Vec::new(),
        offsets: Vec::new(),
        ranges: Vec::new(),
        broken: Vec::new(),
    };
    // A block without the quote character needs no quote handling at all.
    let scan = layout.scan().filter(|s| memchr::memchr(s.quote, bytes).is_some());
    let quote = scan.map(|s| s.quote);
    let mut line = block.first_line;
    let mut start = 0;
    let mut ends = Vec::with_capacity(layout.columns);
    // A UTF-8 block is validated once; its records are then slices of it (a record
    // starts and ends at a line break, always a character boundary).
    let utf8 = match layout.encoding {
        None => std::str::from_utf8(bytes).ok(),
        Some(_) => None,
    };
    while start < bytes.len() {
        // The record's end: the next line break (outside quotes). The block ends where
        // the splitter decided a record ends, so nothing after it can close a quote.
        let (stop, forced) = match scan {
            None => (
                memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i),
                false,
            ),
            Some(scan) => match record_end(bytes, start, scan, true, layout.quote_limit) {
                End::At { end, forced } => (end, forced),
                End::Open => (bytes.len(), false),
            },
        };
        let unterminated = stop == bytes.len();
        let next = if unterminated { stop } else { stop + 1 };
        let mut content_end = stop;
        if content_end > start && bytes[content_end - 1] == b'\r' {
            content_end -= 1;
        }
        let record = &bytes[start..content_end];
        // A record spans several lines only inside quotes: the line breaks it holds.
        let joined = match quote {
            None => 0,
            Some(_) => memchr::memchr_iter(b'\n', record).count() as u64,
        };
        let breaks = joined + u64::from(!unterminated);
        if !record.is_empty() {
            let row = parsed.lines.len();
            parsed.lines.push(line as i64);
            parsed.offsets.push((block.offset + start as u64) as i64);
            parsed.ranges.push((start, content_end));
            let last_unbroken = unterminated && block.at_eof;
            let split = if forced {
                Err(("quote", unclosed_quote(layout.quote_limit)))
            } else {
                split_record(
                    layout,
                    quote,
                    record,
                    utf8.map(|t| &t[start..content_end]),
                    last_unbroken,
                    &mut ends,
                    &mut parsed.columns,
                )
            };
            if let Err((rule, mut reason)) = split {
                for c in parsed.columns.iter_mut() {
                    c.append_null();
                }
                // A broken record over several lines: say which, a stray quote is likely.
                if joined > 0 {
                    reason.push_str(&format!(
                        " (lines {line} to {} read as one record: a quote joined them)",
                        line + joined
                    ));
                }
                parsed.broken.push((row, rule, reason));
            }
        }
        line += breaks;
        start = next;
    }
    parsed
}

/// Why a record whose quote stayed open was cut at its first line break.
fn unclosed_quote(limit: usize) -> String {
    let within = if limit.is_multiple_of(1 << 20) {
        format!("{} MiB", limit >> 20)
    } else {
        format!("{limit} bytes")
    };
    format!(
        "unterminated quoted field: not closed within {within} nor by the end of the file, so only this line is rejected"
    )
}

/// The `trim` rule, applied as a field is cut: spaces around the value go.
fn trimmed(value: &str, trim: bool) -> &str {
    if trim { value.trim_matches(' ') } else { value }
}

/// Append one record's fields to `columns`, or say why it has none.
fn split_record(
    layout: &Layout,
    quote: Option<u8>,
    record: &[u8],
    decoded: Option<&str>,
    last_unbroken: bool,
    ends: &mut Vec<usize>,
    columns: &mut [StringBuilder],
) -> Result<(), (&'static str, String)> {
    match &layout.kind {
        Kind::Fixed { positions, min_len } => {
            if record.len() < *min_len {
                let mut reason = format!("line is {} bytes, expected at least {min_len}", record.len());
                if last_unbroken {
                    reason.push_str("; the file ends without a line break: truncated?");
                }
                return Err(("length", reason));
            }
            let mut values = Vec::with_capacity(positions.len());
            for (start, len) in positions {
                let value = decode(layout.encoding, &record[*start..start + len])
                    .map_err(|b| layout.encoding_error(start + b))?;
                values.push(value);
            }
            for ((builder, value), trim) in columns.iter_mut().zip(values).zip(&layout.trim) {
                builder.append_value(trimmed(&value, *trim));
            }
            Ok(())
        }
        Kind::Delimited { delimiter, .. } => {
            let text = match decoded {
                Some(text) => Cow::Borrowed(text),
                None => layout.decode(record).map_err(|b| layout.encoding_error(b))?,
            };
            let count_hint = |found: usize| {
                let mut reason = format!("expected {} fields, found {found}", layout.columns);
                if last_unbroken {
                    reason.push_str("; the file ends without a line break: truncated?");
                }
                ("columns", reason)
            };
            let quoted = quote.is_some_and(|q| memchr::memchr(q, text.as_bytes()).is_some());
            if !quoted {
                // Field ends, found in one pass; a delimiter never splits a character
                // of the decoded text, so every end is a character boundary.
                let bytes = text.as_bytes();
                ends.clear();
                match delimiter.as_bytes() {
                    [d] => ends.extend(memchr::memchr_iter(*d, bytes)),
                    d => ends.extend(memchr::memmem::find_iter(bytes, d)),
                }
                if ends.len() + 1 != layout.columns {
                    return Err(count_hint(ends.len() + 1));
                }
                let mut start = 0;
                let fields = columns.iter_mut().zip(&layout.trim);
                for ((builder, trim), end) in fields.zip(ends.iter().copied().chain([bytes.len()])) {
                    builder.append_value(trimmed(&text[start..end], *trim));
                    start = end + delimiter.len();
                }
                return Ok(());
            }
            let fields = split_fields(&text, delimiter, quote.map(char::from)).map_err(|e| ("quote", e))?;
            if fields.len() != layout.columns {
                return Err(count_hint(fields.len()));
            }
            for ((builder, value), trim) in columns.iter_mut().zip(fields).zip(&layout.trim) {
                builder.append_value(trimmed(&value, *trim));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(delimiter: &str, quote: Option<u8>, columns: usize) -> Layout {
        Layout {
            kind: Kind::Delimited {
                delimiter: delimiter.into(),
                quote,
            },
            encoding: None,
            encoding_name: "UTF-8",
            columns,
            trim: vec![true; columns],
            quote_limit: QUOTE_LIMIT,
            file_delimiter: delimiter.as_bytes().to_vec(),
            width: Width::Utf8,
        }
    }

    fn gbk(delimiter: &str, columns: usize) -> Layout {
        let mut l = layout(delimiter, Some(b'"'), columns);
        l.encoding = Some(encoding_rs::GBK);
        l.encoding_name = "GBK";
        l.file_delimiter = encoded(delimiter, l.encoding);
        l.width = Width::of(l.encoding);
        l
    }

    fn blocks(text: &[u8], layout: &Layout, size: usize) -> Vec<Block> {
        let mut s = Splitter::new(Box::new(std::io::Cursor::new(text.to_vec())), layout, size);
        let mut out = Vec::new();
        while let Some(b) = s.next_block().unwrap() {
            out.push(b);
        }
        out
    }

    #[test]
    fn blocks_end_on_records_outside_quotes() {
        let l = layout(",", Some(b'"'), 2);
        let text = b"a,\"x\ny\"\nb,c\nd,e";
        for size in [1, 3, 8, 100] {
            let bs = blocks(text, &l, size);
            let joined: Vec<u8> = bs.iter().flat_map(|b| b.bytes.clone()).collect();
            assert_eq!(joined, text.to_vec());
            let mut lines = Vec::new();
            for b in &bs {
                let p = parse(&l, b);
                lines.extend(p.lines.clone());
            }
            assert_eq!(lines, vec![1, 3, 4], "block size {size}");
        }
    }

    /// A record read: its line, and its fields or the rule it broke.
    type Record = (i64, Result<Vec<String>, String>);

    /// Every block size gives the same records.
    fn records(text: &[u8], l: &Layout) -> Vec<Record> {
        let mut all: Option<Vec<Record>> = None;
        for size in [1, 2, 5, 16, 1 << 20] {
            let mut got = Vec::new();
            let bs = blocks(text, l, size);
            let joined: Vec<u8> = bs.iter().flat_map(|b| b.bytes.clone()).collect();
            let unmarked = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            assert_eq!(joined, unmarked.to_vec(), "block size {size}");
            for b in &bs {
                let p = parse(l, b);
                let mut columns: Vec<_> = p.columns.into_iter().map(|mut c| c.finish()).collect();
                for (row, &line) in p.lines.iter().enumerate() {
                    let broken = p.broken.iter().find(|(r, _, _)| *r == row);
                    got.push((
                        line,
                        match broken {
                            Some((_, rule, _)) => Err(rule.to_string()),
                            None => Ok(columns.iter_mut().map(|c| c.value(row).to_string()).collect()),
                        },
                    ));
                }
            }
            match &all {
                Some(first) => assert_eq!(&got, first, "block size {size}"),
                None => all = Some(got),
            }
        }
        all.unwrap_or_default()
    }

    fn ok(fields: &[&str]) -> Result<Vec<String>, String> {
        Ok(fields.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn a_stray_quote_costs_its_own_line_not_the_rest_of_the_file() {
        let l = layout(",", Some(b'"'), 2);
        // Never closed: the file ends inside it.
        let text = b"a,b\n\"x,y\nc,d\ne,f\n";
        assert_eq!(
            records(text, &l),
            vec![
                (1, ok(&["a", "b"])),
                (2, Err("quote".into())),
                (3, ok(&["c", "d"])),
                (4, ok(&["e", "f"]))
            ]
        );
        // Closed only by another stray quote further than the limit: each costs its line.
        let mut l = layout(",", Some(b'"'), 2);
        l.quote_limit = 8;
        let text = b"a,\"b\nc,d\ne,f\ng,\"h\ni,j\n";
        assert_eq!(
            records(text, &l),
            vec![
                (1, Err("quote".into())),
                (2, ok(&["c", "d"])),
                (3, ok(&["e", "f"])),
                (4, Err("quote".into())),
                (5, ok(&["i", "j"])),
            ]
        );
        // Closed by another stray quote within the limit: the lines between are one
        // broken record, and its reason says so.
        let text = b"a,\"b\nc,d\ne,\"f\ng,h\n";
        assert_eq!(
            records(text, &layout(",", Some(b'"'), 2)),
            vec![(1, Err("quote".into())), (4, ok(&["g", "h"]))]
        );
        let plain = layout(",", Some(b'"'), 2);
        let p = parse(&plain, &blocks(text, &plain, 1 << 20)[0]);
        assert_eq!(
            p.broken[0].2,
            "text after a closing quote (lines 1 to 3 read as one record: a quote joined them)"
        );
        // A quoted field with line breaks within the limit is still one record.
        let text = b"a,\"b\nc\"\nd,e\n";
        assert_eq!(records(text, &l), vec![(1, ok(&["a", "b\nc"])), (3, ok(&["d", "e"]))]);
        let l = layout(",", Some(b'"'), 2);
        let p = parse(&l, &blocks(b"a,\"b\nc,d\n", &l, 1 << 20)[0]);
        assert_eq!(p.broken.len(), 1);
        assert_eq!(
            p.broken[0].2,
            "unterminated quoted field: not closed within 1 MiB nor by the end of the file, so only this line is rejected"
        );
    }

    #[test]
    fn a_quote_inside_a_field_is_a_character_and_does_not_join_lines() {
        let l = layout(",", Some(b'"'), 2);
        let text = b"1,O\"Brien\n2,x\n3, \"a,b\"\n4,say \"\"hi\"\"\n5,\"q \"\"x\ny\"\"\"\n";
        assert_eq!(
            records(text, &l),
            vec![
                (1, ok(&["1", "O\"Brien"])),
                (2, ok(&["2", "x"])),
                (3, ok(&["3", "a,b"])),
                (4, ok(&["4", "say \"\"hi\"\""])),
                (5, ok(&["5", "q \"x\ny\""])),
            ]
        );
    }

    #[test]
    fn any_text_is_cut_into_the_same_records_whatever_the_block_size() {
        // Short texts of the characters that matter, from a fixed xorshift sequence:
        // no panic, every byte in exactly one block, the same records and lines for
        // every block size ([`records`]), each record on a line of its own.
        let alphabet = b"ab,|@\"\n\r \"\n\x81\x80";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..800 {
            let len = (next() % 40) as usize;
            let mut text: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if round % 7 == 0 {
                text.splice(0..0, *b"\xEF\xBB\xBF");
            }
            let mut l = match round % 4 {
                3 => gbk("|", 2),
                d => layout([",", "|@|", ", "][d], Some(b'"'), 2),
            };
            l.quote_limit = [1, 3, 7, 1 << 20][round / 4 % 4];
            let got = records(&text, &l);
            let lines: Vec<i64> = got.iter().map(|(line, _)| *line).collect();
            assert!(lines.windows(2).all(|w| w[0] < w[1]), "{text:?}: {lines:?}");
            let breaks = text.iter().filter(|&&b| b == b'\n').count() as i64;
            assert!(
                lines.last().is_none_or(|&last| last <= breaks + 1),
                "{text:?}: {lines:?}"
            );
        }
    }

    #[test]
    fn a_quote_opens_a_field_where_the_field_splitter_starts_one() {
        // `|@|@|"x`: the second field is `@|"x`, its quote a character.
        let l = layout("|@|", Some(b'"'), 2);
        assert_eq!(
            records(b"1|@|@|\"x\ny\"\n3|@|z\n", &l),
            vec![
                (1, ok(&["1", "@|\"x"])),
                (2, Err("columns".into())),
                (3, ok(&["3", "z"]))
            ]
        );
        // A delimiter ending in a space: the quote right after it opens the field.
        let l = layout(", ", Some(b'"'), 2);
        assert_eq!(
            records(b"1, \"x\ny\"\n3, z\n", &l),
            vec![(1, ok(&["1", "x\ny"])), (3, ok(&["3", "z"]))]
        );
        let l = layout(" ", Some(b'"'), 2);
        assert_eq!(
            records(b"1 \"x\ny\"\n3 z\n", &l),
            vec![(1, ok(&["1", "x\ny"])), (3, ok(&["3", "z"]))]
        );
        // GBK: 0x81 0x7C is one character (its second byte a `|`), not a delimiter.
        let l = gbk("|", 2);
        assert_eq!(
            records(b"a|\x81|\"b\nc\"\n3|z\n", &l),
            vec![
                (1, ok(&["a", "\u{4E85}\"b"])),
                (2, Err("columns".into())),
                (3, ok(&["3", "z"]))
            ]
        );
        // 0x80 is one character (the euro sign), so the `|` after it is a delimiter.
        assert_eq!(
            records(b"\x80|\"x\ny\"\n3|z\n", &l),
            vec![(1, ok(&["\u{20AC}", "x\ny"])), (3, ok(&["3", "z"]))]
        );
        assert_eq!(
            records(b"a|\x80\x81|\"x\ny\"\n3|z\n", &l),
            vec![
                (1, ok(&["a", "\u{20AC}\u{4E85}\"x"])),
                (2, Err("columns".into())),
                (3, ok(&["3", "z"]))
            ]
        );
        // A delimiter that is not ASCII is matched as the file writes it (GBK A3 AC).
        let l = gbk("\u{FF0C}", 2);
        assert_eq!(records(b"a\xa3\xac\"b\nc\"\n", &l), vec![(1, ok(&["a", "b\nc"]))]);
    }

    #[test]
    fn a_byte_order_mark_is_skipped_whatever_the_block_size() {
        let l = layout(",", Some(b'"'), 2);
        assert_eq!(
            records(b"\xEF\xBB\xBFa,b\nc,d\n", &l),
            vec![(1, ok(&["a", "b"])), (2, ok(&["c", "d"]))]
        );
        assert_eq!(records(b"\xEF\xBB", &l), vec![(1, Err("encoding".into()))]);
    }

    #[test]
    fn an_open_quote_holds_no_more_than_the_limit_in_memory() {
        let mut l = layout(",", Some(b'"'), 2);
        l.quote_limit = 1000;
        let mut text = b"a,\"b\n".to_vec();
        for i in 0..10_000 {
            text.extend_from_slice(format!("{i},v\n").as_bytes());
        }
        let bs = blocks(&text, &l, 100);
        assert!(
            bs.iter().all(|b| b.bytes.len() < 100 + 1000 + 16),
            "{}",
            bs.iter().map(|b| b.bytes.len()).max().unwrap_or(0)
        );
        let rows: usize = bs.iter().map(|b| parse(&l, b).lines.len()).sum();
        assert_eq!(rows, 10_001);
    }

    #[test]
    fn a_file_without_line_breaks_is_refused_not_held_whole() {
        let l = layout(",", None, 2);
        let mut text = b"a,b\nc,d\n".to_vec();
        text.extend(b"e,f\r".repeat(3 << 20));
        let mut s = Splitter::new(Box::new(std::io::Cursor::new(text)), &l, 1 << 20);
        s.line_limit = 2 << 20;
        let first = s.next_block().unwrap().unwrap_or_else(|| panic!("a first block"));
        assert_eq!(first.bytes, b"a,b\nc,d\n");
        let err = s.next_block().err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err,
            "line 3 has no line break in 2 MiB; lines must end with \\n or \\r\\n (are they ended by \\r alone, or \
             is the file not text?)"
        );
        assert!(s.bytes_read < 5 << 20, "{}", s.bytes_read);
    }

    #[test]
    fn multi_character_delimiter_and_field_count() {
        let l = layout("|@|", None, 3);
        let bs = blocks(b"1|@|a|b|@|x\n2|@|only\n", &l, 1024);
        let p = parse(&l, &bs[0]);
        assert_eq!(p.lines, vec![1, 2]);
        assert_eq!(p.broken, vec![(1, "columns", "expected 3 fields, found 2".to_string())]);
        let mut col1 = p.columns.into_iter().nth(1).unwrap();
        let a = col1.finish();
        assert_eq!(a.value(0), "a|b");
    }

    #[test]
    fn quoted_fields_unescape() {
        let f = split_fields("\"a,b\",\"say \"\"hi\"\"\",c", ",", Some('"')).unwrap();
        assert_eq!(f, vec!["a,b", "say \"hi\"", "c"]);
        assert_eq!(
            split_fields("\"open,c", ",", Some('"')).unwrap_err(),
            "unterminated quoted field"
        );
    }

    #[test]
    fn gbk_positions_of_invalid_bytes() {
        assert_eq!(decode(Some(encoding_rs::GBK), b"ab\x81").unwrap_err(), 3);
        assert_eq!(decode(None, b"ab\xffc").unwrap_err(), 3);
        // 0x81 0x7C is one GBK character whose second byte is '|'.
        let text = decode(Some(encoding_rs::GBK), b"\x81\x7c|x").unwrap();
        assert_eq!(text.split('|').count(), 2);
    }
}
