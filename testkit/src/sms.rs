//! An SMS provider on `127.0.0.1` that speaks the part of Twilio's API Rampart uses: a form
//! POST of `To`, `From` and `Body` with Basic credentials, answered `201`. It keeps every
//! message, and can be told to answer an error instead.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A text message as the provider received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub to: String,
    pub from: String,
    pub body: String,
    /// The request's path.
    pub path: String,
    /// The Basic credentials sent, decoded (`user:password`).
    pub credentials: Option<String>,
}

impl Text {
    /// The first run of six digits in the body.
    pub fn code(&self) -> Option<String> {
        let digits: Vec<char> = self.body.chars().collect();
        digits
            .windows(6)
            .enumerate()
            .find(|(i, w)| {
                w.iter().all(char::is_ascii_digit)
                    && (*i == 0 || !digits[i - 1].is_ascii_digit())
                    && digits.get(i + 6).is_none_or(|c| !c.is_ascii_digit())
            })
            .map(|(_, w)| w.iter().collect())
    }
}

#[derive(Default)]
struct State {
    texts: Vec<(Text, bool)>,
    /// Answer this status instead of 201 to the next requests.
    failing: Option<u16>,
    requests: usize,
}

pub struct SmsSink {
    port: u16,
    state: Arc<(Mutex<State>, Notify)>,
    task: JoinHandle<()>,
}

impl Drop for SmsSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SmsSink {
    pub async fn start() -> io::Result<SmsSink> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let port = listener.local_addr()?.port();
        let state = Arc::new((Mutex::new(State::default()), Notify::new()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&shared)));
            }
        });
        Ok(SmsSink { port, state, task })
    }

    /// The `RAMPART_SMS_URL` that reaches this sink, Twilio-shaped, with credentials.
    pub fn url(&self) -> String {
        format!("http://ACtest:sms-token@127.0.0.1:{}/2010-04-01/Accounts/ACtest/Messages.json", self.port)
    }

    /// From now on answer `status` (say 500, or 400) instead of accepting; `None` accepts again.
    pub fn fail_with(&self, status: Option<u16>) {
        lock(&self.state.0).failing = status;
    }

    /// Requests received, accepted or not.
    pub fn requests(&self) -> usize {
        lock(&self.state.0).requests
    }

    /// The next text to `to` not returned before, waiting up to `wait`.
    pub async fn wait_for(&self, to: &str, wait: Duration) -> Option<Text> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.state.1.notified();
            {
                let mut state = lock(&self.state.0);
                if let Some((text, taken)) = state.texts.iter_mut().find(|(t, taken)| !taken && t.to == to) {
                    *taken = true;
                    return Some(text.clone());
                }
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// Every text received so far.
    pub fn texts(&self) -> Vec<Text> {
        lock(&self.state.0).texts.iter().map(|(t, _)| t.clone()).collect()
    }
}

fn form_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn serve(mut stream: TcpStream, state: Arc<(Mutex<State>, Notify)>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    // Headers, then as much body as Content-Length says.
    let (head_end, length) = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                .unwrap_or(0);
            break (end + 4, length);
        }
        if buffer.len() > 64 * 1024 {
            return;
        }
    };
    while buffer.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let body = String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned();
    let path = head.lines().next().and_then(|l| l.split(' ').nth(1)).unwrap_or_default().to_owned();
    let credentials = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        let value = value.trim();
        (name.eq_ignore_ascii_case("authorization")).then_some(())?;
        let encoded = value.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
        String::from_utf8(decoded).ok()
    });
    let field = |name: &str| {
        body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (form_decode(k) == name).then(|| form_decode(v))
        })
    };
    let text = Text {
        to: field("To").unwrap_or_default(),
        from: field("From").unwrap_or_default(),
        body: field("Body").unwrap_or_default(),
        path,
        credentials,
    };
    let status = {
        let mut s = lock(&state.0);
        s.requests += 1;
        match s.failing {
            Some(status) => status,
            None => {
                s.texts.push((text, false));
                201
            }
        }
    };
    state.1.notify_waiters();
    let answer = if status == 201 { "{\"sid\":\"SMtest\",\"status\":\"queued\"}" } else { "{\"message\":\"refused\"}" };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_and_forms() {
        let t = super::Text {
            to: String::new(),
            from: String::new(),
            body: "123456 is your Acme code.\n\n@auth.test #123456".into(),
            path: String::new(),
            credentials: None,
        };
        assert_eq!(t.code().as_deref(), Some("123456"));
        assert_eq!(super::form_decode("%2B1415+x%zz"), "+1415 x%zz");
    }
}
