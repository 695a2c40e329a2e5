//! A local SMTP sink: a real SMTP server on 127.0.0.1 that keeps what it is sent, so tests
//! deliver mail over TCP the way production does and then read it back decoded.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::{JoinHandle, JoinSet};

mod mime;

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub to: Vec<String>,
    /// The message as sent after DATA, dot-unstuffed, with CRLF line breaks, less the CRLF
    /// that the client (lettre always) sends before the terminating `.` line: for lettre,
    /// exactly the bytes it formatted.
    pub raw: String,
    /// The user name and password of the connection's AUTH, if it authenticated.
    pub auth: Option<(String, String)>,
}

impl Received {
    /// The `Subject` header, decoded.
    pub fn subject(&self) -> Option<String> {
        mime::header(&self.raw, "Subject")
    }

    /// Any header, unfolded and decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        mime::header(&self.raw, name)
    }

    /// The `text/plain` part (or the whole body of a message without a Content-Type),
    /// transfer encoding undone, line breaks as `\n`.
    pub fn text_body(&self) -> Option<String> {
        mime::body(&self.raw, "text/plain")
    }

    /// The `text/html` part, decoded like [`Received::text_body`].
    pub fn html_body(&self) -> Option<String> {
        mime::body(&self.raw, "text/html")
    }

    /// Every `http://` or `https://` URL in the text body, in order; a URL ends at
    /// whitespace or a quote or angle bracket, and trailing sentence punctuation is not part
    /// of it.
    pub fn links(&self) -> Vec<String> {
        let text = self.text_body().unwrap_or_default();
        let mut links = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = [rest.find("http://"), rest.find("https://")].into_iter().flatten().min() {
            let candidate = &rest[start..];
            let end = candidate.find(|c: char| c.is_whitespace() || "<>\"'`".contains(c)).unwrap_or(candidate.len());
            let link = candidate[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']']);
            if !link.ends_with("://") {
                links.push(link.to_owned());
            }
            rest = &candidate[end..];
        }
        links
    }
}

/// An SMTP server on `127.0.0.1` that accepts everything (or what it is told to) and keeps
/// it. Dropping it stops it.
pub struct Sink {
    port: u16,
    shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

struct Shared {
    state: Mutex<State>,
    arrived: Notify,
    /// With `start_with_auth`, the only credentials AUTH accepts, and mail needs AUTH.
    required_auth: Option<(String, String)>,
}

#[derive(Default)]
struct State {
    messages: Vec<Kept>,
    reject_rcpt: Option<u16>,
}

struct Kept {
    message: Received,
    /// Already returned by `wait_for`.
    taken: bool,
}

impl Sink {
    /// A sink on a free port that accepts any AUTH and any mail.
    pub async fn start() -> io::Result<Sink> {
        Sink::start_on(0).await
    }

    /// A sink on `port` (0 for any free one): with a port a stopped sink had, "SMTP is down,
    /// then back".
    pub async fn start_on(port: u16) -> io::Result<Sink> {
        Sink::launch(port, None).await
    }

    /// A sink that takes mail only after AUTH with exactly these credentials, and answers
    /// `535` to any other.
    pub async fn start_with_auth(user: &str, password: &str) -> io::Result<Sink> {
        Sink::launch(0, Some((user.to_owned(), password.to_owned()))).await
    }

    async fn launch(port: u16, required_auth: Option<(String, String)>) -> io::Result<Sink> {
        let socket = TcpSocket::new_v4()?;
        // A restarted sink must get its port back although the last run's connections are
        // still in TIME_WAIT.
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
        let listener = socket.listen(128)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared { state: Mutex::default(), arrived: Notify::new(), required_auth });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        Ok(Sink { port, shared, running: Mutex::new(Some(Running { stop, task })) })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:{port}`: plain SMTP, what `Smtp::from_url` takes.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// With `Some(code)` every `RCPT TO` is answered with that code (`550` for a permanent
    /// refusal, `450` for a transient one); `None` accepts again.
    pub fn set_reject(&self, code: Option<u16>) {
        lock(&self.shared.state).reject_rcpt = code;
    }

    /// Closes the listener and every open connection, and waits until they are closed:
    /// after this a connection to the port is refused. What was received stays readable.
    pub async fn stop(&self) {
        let running = lock(&self.running).take();
        if let Some(Running { stop, task }) = running {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        lock(&self.shared.state).messages.iter().map(|kept| kept.message.clone()).collect()
    }

    /// The oldest message to `to` (compared case-insensitively) that no earlier `wait_for`
    /// returned, waiting up to `timeout` for one to arrive: two calls after two sends get
    /// the two messages in order.
    pub async fn wait_for(&self, to: &str, timeout: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so an arrival between the look and the wait wakes us.
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(message) = self.take_next(to) {
                return Some(message);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.take_next(to);
            }
        }
    }

    fn take_next(&self, to: &str) -> Option<Received> {
        let mut state = lock(&self.shared.state);
        let kept = state
            .messages
            .iter_mut()
            .find(|kept| !kept.taken && kept.message.to.iter().any(|rcpt| rcpt.eq_ignore_ascii_case(to)))?;
        kept.taken = true;
        Some(kept.message.clone())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts the connections.
        if let Some(running) = lock(&self.running).take() {
            running.task.abort();
        }
    }
}

/// A test that panicked while holding the lock has already failed; the data is still good.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(converse(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors and the like: give the other tasks a moment.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// One SMTP conversation, several messages possibly; an I/O error ends it.
async fn converse(stream: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    let mut conn = Connection { stream: BufReader::new(stream) };
    let mut session = Session::default();
    conn.reply("220 127.0.0.1 Rampart test sink ESMTP").await?;
    while let Some(line) = conn.line().await? {
        let (verb, arg) = match line.split_once(' ') {
            Some((verb, arg)) => (verb.to_ascii_uppercase(), arg.trim()),
            None => (line.to_ascii_uppercase(), ""),
        };
        match verb.as_str() {
            "EHLO" => {
                session.reset();
                conn.reply("250-127.0.0.1 greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN").await?
            }
            "HELO" => {
                session.reset();
                conn.reply("250 127.0.0.1 greets you").await?
            }
            "NOOP" => conn.reply("250 2.0.0 OK").await?,
            "RSET" => {
                session.reset();
                conn.reply("250 2.0.0 OK").await?
            }
            "QUIT" => {
                conn.reply("221 2.0.0 Bye").await?;
                break;
            }
            "AUTH" => {
                let reply = authenticate(&mut conn, &mut session, &shared, arg).await?;
                conn.reply(reply).await?
            }
            "MAIL" => {
                let reply = match address_after(arg, "FROM:") {
                    _ if shared.required_auth.is_some() && session.auth.is_none() => {
                        "530 5.7.0 Authentication required"
                    }
                    Some(from) => {
                        session.reset();
                        session.from = Some(from);
                        "250 2.1.0 OK"
                    }
                    None => "501 5.5.4 Syntax: MAIL FROM:<address>",
                };
                conn.reply(reply).await?
            }
            "RCPT" => {
                let reject = lock(&shared.state).reject_rcpt;
                let reply = match (address_after(arg, "TO:"), reject) {
                    _ if session.from.is_none() => "503 5.5.1 MAIL first".to_owned(),
                    (None, _) => "501 5.5.4 Syntax: RCPT TO:<address>".to_owned(),
                    (Some(_), Some(code)) => format!("{code} Recipient refused by the test sink"),
                    (Some(to), None) => {
                        session.to.push(to);
                        "250 2.1.5 OK".to_owned()
                    }
                };
                conn.reply(&reply).await?
            }
            "DATA" => {
                if session.to.is_empty() {
                    conn.reply("503 5.5.1 RCPT first").await?;
                    continue;
                }
                conn.reply("354 End data with <CR><LF>.<CR><LF>").await?;
                let Some(raw) = conn.data().await? else { break };
                let message = Received {
                    from: session.from.take().unwrap_or_default(),
                    to: std::mem::take(&mut session.to),
                    raw,
                    auth: session.auth.clone(),
                };
                let number = {
                    let mut state = lock(&shared.state);
                    state.messages.push(Kept { message, taken: false });
                    state.messages.len()
                };
                shared.arrived.notify_waiters();
                conn.reply(&format!("250 2.0.0 OK queued as {number}")).await?
            }
            _ => conn.reply("502 5.5.2 Command not recognized").await?,
        }
    }
    Ok(())
}

#[derive(Default)]
struct Session {
    from: Option<String>,
    to: Vec<String>,
    auth: Option<(String, String)>,
}

impl Session {
    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
    }
}

struct Connection {
    stream: BufReader<TcpStream>,
}

impl Connection {
    /// The next line without its line break; `None` when the client hung up.
    async fn line(&mut self) -> io::Result<Option<String>> {
        let mut buf = Vec::new();
        if self.stream.read_until(b'\n', &mut buf).await? == 0 {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&buf);
        Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
    }

    /// The message after `354`, up to the line holding a single `.`; `None` if the client
    /// hung up first.
    async fn data(&mut self) -> io::Result<Option<String>> {
        let mut raw = Vec::new();
        loop {
            let mut line = Vec::new();
            if self.stream.read_until(b'\n', &mut line).await? == 0 {
                return Ok(None);
            }
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            // RFC 5321 4.5.2: the client doubled every leading dot.
            let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
            raw.extend_from_slice(unstuffed);
        }
        // The last line break belongs to the terminating "<CRLF>.<CRLF>".
        if raw.ends_with(b"\r\n") {
            raw.truncate(raw.len() - 2);
        }
        Ok(Some(String::from_utf8_lossy(&raw).into_owned()))
    }

    async fn reply(&mut self, reply: &str) -> io::Result<()> {
        let stream = self.stream.get_mut();
        stream.write_all(reply.as_bytes()).await?;
        stream.write_all(b"\r\n").await?;
        stream.flush().await
    }
}

/// `<address>` (and any parameters after it) following `FROM:` or `TO:`.
fn address_after(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let address = match rest.strip_prefix('<') {
        Some(bracketed) => &bracketed[..bracketed.find('>')?],
        None => rest.split_whitespace().next()?,
    };
    Some(address.to_owned())
}

/// AUTH PLAIN and AUTH LOGIN, with or without an initial response; returns the final reply.
async fn authenticate(
    conn: &mut Connection,
    session: &mut Session,
    shared: &Shared,
    arg: &str,
) -> io::Result<&'static str> {
    let (mechanism, initial) = match arg.split_once(' ') {
        Some((mechanism, initial)) => (mechanism.to_ascii_uppercase(), Some(initial.trim().to_owned())),
        None => (arg.to_ascii_uppercase(), None),
    };
    // Each step's answer, or `None` when the client cancelled with `*` or hung up.
    async fn answer(conn: &mut Connection, prompt: &str, given: Option<String>) -> io::Result<Option<Vec<u8>>> {
        let line = match given {
            Some(line) => line,
            None => {
                conn.reply(prompt).await?;
                match conn.line().await? {
                    Some(line) => line,
                    None => return Ok(None),
                }
            }
        };
        if line == "*" {
            return Ok(None);
        }
        Ok(Some(STANDARD.decode(line.trim()).unwrap_or_default()))
    }
    let credentials = match mechanism.as_str() {
        "PLAIN" => {
            let Some(response) = answer(conn, "334 ", initial).await? else {
                return Ok("501 5.0.0 Authentication cancelled");
            };
            // authorization identity \0 user \0 password
            let fields: Vec<&[u8]> = response.split(|byte| *byte == 0).collect();
            match fields[..] {
                [_, user, password] => (lossy(user), lossy(password)),
                _ => return Ok("501 5.5.2 Malformed AUTH PLAIN response"),
            }
        }
        "LOGIN" => {
            let Some(user) = answer(conn, "334 VXNlcm5hbWU6", initial).await? else {
                return Ok("501 5.0.0 Authentication cancelled");
            };
            let Some(password) = answer(conn, "334 UGFzc3dvcmQ6", None).await? else {
                return Ok("501 5.0.0 Authentication cancelled");
            };
            (lossy(&user), lossy(&password))
        }
        _ => return Ok("504 5.5.4 Unrecognized authentication mechanism"),
    };
    if shared.required_auth.as_ref().is_some_and(|required| *required != credentials) {
        return Ok("535 5.7.8 Authentication credentials invalid");
    }
    session.auth = Some(credentials);
    Ok("235 2.7.0 Authentication successful")
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(text: &str) -> Received {
        Received { from: String::new(), to: Vec::new(), raw: format!("Subject: x\r\n\r\n{text}"), auth: None }
    }

    #[test]
    fn links_end_at_whitespace_and_lose_trailing_punctuation() {
        let message = received(
            "Open https://rampart.test/acme/reset-password?token=abc_DEF-123.\n\
             Or (http://localhost:3000/x).\n\
             <https://a.test/b> \"https://c.test/d?e=f&g=h\", not ftp://x nor https://",
        );
        assert_eq!(
            message.links(),
            [
                "https://rampart.test/acme/reset-password?token=abc_DEF-123",
                "http://localhost:3000/x",
                "https://a.test/b",
                "https://c.test/d?e=f&g=h",
            ]
        );
    }

    #[test]
    fn addresses_are_read_with_or_without_brackets_and_parameters() {
        assert_eq!(address_after("FROM:<a@b.test> BODY=8BITMIME", "FROM:").as_deref(), Some("a@b.test"));
        assert_eq!(address_after("from: <a@b.test>", "FROM:").as_deref(), Some("a@b.test"));
        assert_eq!(address_after("TO:a@b.test", "TO:").as_deref(), Some("a@b.test"));
        assert_eq!(address_after("FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(address_after("TO:<a@b.test", "TO:"), None);
        assert_eq!(address_after("X", "FROM:"), None);
    }
}
