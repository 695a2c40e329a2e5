//! Just enough MIME to read what lettre writes: unfolded headers, RFC 2047 encoded words,
//! nested multiparts, and quoted-printable, base64, 7bit and 8bit bodies in UTF-8.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// A header's value, unfolded, with encoded words decoded.
pub(super) fn header(message: &str, name: &str) -> Option<String> {
    let (head, _) = split(message);
    raw_header(head, name).map(|value| decode_words(&value))
}

/// The decoded text of the first part of this media type (`text/plain`), searched depth
/// first through multiparts; line breaks come back as `\n`.
pub(super) fn body(message: &str, media_type: &str) -> Option<String> {
    let (head, body) = split(message);
    // The line break that ends the message ends its last line: lettre adds it after a
    // single-part body as it adds one before each multipart delimiter.
    let body = body.strip_suffix("\r\n").or_else(|| body.strip_suffix('\n')).unwrap_or(body);
    entity(head, body, media_type)
}

fn entity(head: &str, body: &str, media_type: &str) -> Option<String> {
    let content_type = raw_header(head, "Content-Type").unwrap_or_else(|| "text/plain".to_owned());
    let (kind, boundary) = parse_content_type(&content_type);
    if kind.starts_with("multipart/") {
        return parts(body, &boundary?).into_iter().find_map(|part| {
            let (head, body) = split(part);
            entity(head, body, media_type)
        });
    }
    if kind != media_type {
        return None;
    }
    let encoding = raw_header(head, "Content-Transfer-Encoding").unwrap_or_default().trim().to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => STANDARD.decode(body.split_whitespace().collect::<String>()).ok()?,
        _ => body.as_bytes().to_vec(),
    };
    Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
}

/// Headers and body, split at the first empty line.
fn split(message: &str) -> (&str, &str) {
    for blank in ["\r\n", "\n"] {
        if let Some(body) = message.strip_prefix(blank) {
            return ("", body);
        }
    }
    for separator in ["\r\n\r\n", "\n\n"] {
        if let Some(at) = message.find(separator) {
            return (&message[..at], &message[at + separator.len()..]);
        }
    }
    (message, "")
}

/// The first header of that name, its continuation lines joined.
fn raw_header(head: &str, name: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        match &mut found {
            Some(value) if line.starts_with([' ', '\t']) => value.push_str(line),
            Some(_) => break,
            None => {
                if let Some((key, value)) = line.split_once(':') {
                    if key.eq_ignore_ascii_case(name) {
                        found = Some(value.trim_start().to_owned());
                    }
                }
            }
        }
    }
    found
}

/// The media type, lower-cased, and the boundary parameter if there is one.
fn parse_content_type(value: &str) -> (String, Option<String>) {
    let mut fields = value.split(';');
    let kind = fields.next().unwrap_or_default().trim().to_ascii_lowercase();
    let boundary = fields.find_map(|field| {
        let (key, value) = field.split_once('=')?;
        key.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"').to_owned())
    });
    (kind, boundary)
}

/// The parts between `--boundary` lines, up to `--boundary--`.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.starts_with(&delimiter) {
            if let Some(start) = start {
                // The line break before a delimiter belongs to the delimiter.
                let part = &body[start..offset];
                parts.push(part.strip_suffix("\r\n").or_else(|| part.strip_suffix('\n')).unwrap_or(part));
            }
            if bare[delimiter.len()..].starts_with("--") {
                return parts;
            }
            start = Some(offset + line.len());
        }
        offset += line.len();
    }
    parts
}

/// RFC 2045 6.7: `=XX` is a byte, `=` at the end of a line joins it to the next, and
/// whitespace at the end of a line was added in transit.
fn quoted_printable(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.trim_end_matches(['\r', ' ', '\t']);
        let (line, soft) = match line.strip_suffix('=') {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        unescape(line.as_bytes(), b'=', false, &mut out);
        if !soft && lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// `{escape}XX` is the byte XX (and in an encoded word `_` is a space); anything malformed
/// is kept as it is.
fn unescape(input: &[u8], escape: u8, underscore_is_space: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        let hex = || std::str::from_utf8(input.get(i + 1..i + 3)?).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
        match byte {
            _ if byte == escape => match hex() {
                Some(decoded) => {
                    out.push(decoded);
                    i += 3;
                    continue;
                }
                None => out.push(byte),
            },
            b'_' if underscore_is_space => out.push(b' '),
            _ => out.push(byte),
        }
        i += 1;
    }
}

/// RFC 2047: `=?charset?B|Q?text?=` words are decoded (as UTF-8), and the whitespace
/// between two adjacent ones is dropped.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while !rest.is_empty() {
        let next_word = rest.find("=?").and_then(|start| {
            let (bytes, len) = encoded_word(&rest[start..])?;
            Some((start, bytes, len))
        });
        match next_word {
            Some((start, bytes, len)) => {
                let between = &rest[..start];
                if !(after_word && between.trim().is_empty()) {
                    out.push_str(between);
                }
                out.push_str(&String::from_utf8_lossy(&bytes));
                rest = &rest[start + len..];
                after_word = true;
            }
            None => {
                out.push_str(rest);
                break;
            }
        }
    }
    out
}

/// The bytes of the encoded word at the start of `s`, and its length.
fn encoded_word(s: &str) -> Option<(Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => STANDARD.decode(text).ok()?,
        "Q" | "q" => {
            let mut out = Vec::new();
            unescape(text.as_bytes(), b'=', true, &mut out);
            out
        }
        _ => return None,
    };
    let len = s.len() - inner.len() + end + 2;
    Some((bytes, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_soft_breaks_and_escapes() {
        assert_eq!(
            quoted_printable("caf=C3=A9 au lait=\r\n, s'il vous pla=C3=AEt  \r\nfin"),
            "café au lait, s'il vous plaît\r\nfin".as_bytes()
        );
        assert_eq!(quoted_printable("a=3Db=\r\n"), b"a=b");
        assert_eq!(quoted_printable("100% =ZZ"), b"100% =ZZ");
    }

    #[test]
    fn encoded_words_are_decoded_and_joined() {
        assert_eq!(decode_words("=?utf-8?b?R3LDvMOfZQ==?= =?utf-8?b?IOKAlCBjYWbDqQ==?="), "Grüße — café");
        assert_eq!(decode_words("Hello =?UTF-8?Q?caf=C3=A9_cr=C3=A8me?= world"), "Hello café crème world");
        assert_eq!(decode_words("plain = ?text"), "plain = ?text");
    }

    #[test]
    fn multipart_alternative_parts_are_found_and_decoded() {
        let message = "Subject: =?utf-8?b?SGk=?=\r\n\
            Content-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n\r\n\
            --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            caf=C3=A9\r\nline two\r\n\
            --b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
            PHA+Y2Fmw6k8L3A+\r\n\
            --b1--\r\n";
        assert_eq!(header(message, "subject").as_deref(), Some("Hi"));
        assert_eq!(body(message, "text/plain").as_deref(), Some("café\nline two"));
        assert_eq!(body(message, "text/html").as_deref(), Some("<p>café</p>"));
        assert_eq!(body(message, "image/png"), None);
    }

    #[test]
    fn a_single_part_message_is_its_own_body() {
        let message = "Subject: x\r\nContent-Transfer-Encoding: 7bit\r\n\r\nhello\r\nthere\r\n";
        assert_eq!(body(message, "text/plain").as_deref(), Some("hello\nthere"));
        assert_eq!(body(message, "text/html"), None);
    }
}
