//! A TCP proxy on loopback between one node and PostgreSQL, which a test can cut: every
//! proxied connection closed at once, and new ones accepted and closed straight away (so a
//! client's connect fails at once instead of waiting for the server to come up) until it
//! is restored.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
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
}

impl Proxy {
    /// Proxies to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                // Checked and recorded under one lock, so `cut` misses no connection.
                let mut state = shared.lock().unwrap();
                if state.cut {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let connection = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                state.connections.retain(|c| !c.is_finished());
                state.connections.push(connection.abort_handle());
            }
        });
        Proxy { port, state, accept: accept.abort_handle() }
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
