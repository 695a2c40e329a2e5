//! A TCP proxy on loopback between one node and PostgreSQL, which a test can cut (every
//! proxied connection closed at once, and new ones accepted and closed straight away, so a
//! client's connect fails at once instead of waiting for the server to come up, until it is
//! restored) or pause (nothing, end of stream included, passed on until it is resumed).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

#[derive(Default)]
struct State {
    cut: bool,
    connections: Vec<AbortHandle>,
}

pub struct Proxy {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    state: Arc<Mutex<State>>,
    accept: AbortHandle,
    paused: watch::Sender<bool>,
}

/// Copies `from` to `to`, holding what it read (and the end of `from`) while paused.
async fn forward(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut paused: watch::Receiver<bool>) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = from.read(&mut buffer).await.unwrap_or(0);
        let _ = paused.wait_for(|paused| !paused).await;
        if read == 0 || to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Proxy {
    /// Proxies to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let (paused, pause) = watch::channel(false);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                // Checked and recorded under one lock, so `cut` misses no connection.
                let mut state = shared.lock().unwrap();
                if state.cut {
                    drop(client);
                    continue;
                }
                let (upstream, pause) = (upstream.clone(), pause.clone());
                let connection = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let ((client_in, client_out), (server_in, server_out)) =
                            (client.into_split(), server.into_split());
                        tokio::join!(
                            forward(client_in, server_out, pause.clone()),
                            forward(server_in, client_out, pause),
                        );
                    }
                });
                state.connections.retain(|c| !c.is_finished());
                state.connections.push(connection.abort_handle());
            }
        });
        Proxy { port, state, accept: accept.abort_handle(), paused }
    }

    /// Passes nothing on, in either direction, until `resume`.
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// Closes every proxied connection, and every new one, until `restore`.
    pub fn cut(&self) {
        let mut state = self.state.lock().unwrap();
        state.cut = true;
        for connection in state.connections.drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.state.lock().unwrap().cut = false;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
