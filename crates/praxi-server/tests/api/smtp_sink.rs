//! A local SMTP sink for the reminder tests: a thread speaking enough SMTP (220, EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT) that records every accepted message. `RCPT` can be
//! made to answer a chosen failure (e.g. `451 …` transient, `550 …` permanent).

#![allow(dead_code, reason = "shared by two test crates, each using a part")]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One accepted message.
#[derive(Debug, Clone)]
pub(crate) struct SinkMessage {
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) data: String,
}

#[derive(Default)]
struct Shared {
    messages: Vec<SinkMessage>,
    rcpt_reply: Option<String>,
}

/// The sink; it runs until the test process ends.
#[derive(Clone)]
pub(crate) struct SmtpSink {
    pub(crate) addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl SmtpSink {
    pub(crate) fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind sink");
        let addr = listener.local_addr().expect("sink addr");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let accept_shared = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = accept_shared.clone();
                std::thread::spawn(move || {
                    let _ = session(stream, &shared);
                });
            }
        });
        SmtpSink { addr, shared }
    }

    /// `smtp://127.0.0.1:<port>` (plain SMTP).
    pub(crate) fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub(crate) fn messages(&self) -> Vec<SinkMessage> {
        self.shared.lock().expect("sink lock").messages.clone()
    }

    /// Makes `RCPT` answer `reply` (e.g. `"451 4.3.0 try again later"`); `None` accepts.
    pub(crate) fn fail_recipients_with(&self, reply: Option<&str>) {
        self.shared.lock().expect("sink lock").rcpt_reply = reply.map(str::to_owned);
    }
}

fn session(stream: TcpStream, shared: &Mutex<Shared>) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 sink.test ESMTP ready\r\n")?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            writer.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("HELO") {
            writer.write_all(b"250 sink.test\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().to_owned();
            to.clear();
            writer.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            let reply = shared.lock().expect("sink lock").rcpt_reply.clone();
            match reply {
                Some(reply) => writer.write_all(format!("{reply}\r\n").as_bytes())?,
                None => {
                    to.push(command[8..].trim().to_owned());
                    writer.write_all(b"250 OK\r\n")?;
                }
            }
        } else if upper == "DATA" {
            writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line.trim_end_matches(['\r', '\n']) == "." {
                    break;
                }
                data.push_str(&line);
            }
            shared
                .lock()
                .expect("sink lock")
                .messages
                .push(SinkMessage {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
            writer.write_all(b"250 OK queued\r\n")?;
        } else if upper == "RSET" || upper == "NOOP" {
            writer.write_all(b"250 OK\r\n")?;
        } else if upper == "QUIT" {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            writer.write_all(b"502 not implemented\r\n")?;
        }
    }
}
