//! A minimal Redis client for pub/sub (RESP2 over TCP): `PUBLISH` and `SUBSCRIBE`. Praxi needs
//! nothing else from Redis, so this avoids a large dependency.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The pub/sub channel for board events.
pub const CHANNEL: &str = "praxi:events";

/// Where Redis runs (`redis://[:password@]host[:port][/db]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    pub address: String,
    pub password: Option<String>,
}

impl RedisConfig {
    pub fn parse(url: &str) -> Result<RedisConfig, String> {
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| "redis url must start with redis://".to_owned())?;
        let rest = rest.split('/').next().unwrap_or(rest);
        let (password, host) = match rest.rsplit_once('@') {
            Some((auth, host)) => {
                let password = auth.rsplit(':').next().unwrap_or(auth);
                (Some(password.to_owned()).filter(|p| !p.is_empty()), host)
            }
            None => (None, rest),
        };
        if host.is_empty() {
            return Err("redis url has no host".to_owned());
        }
        let address = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:6379")
        };
        Ok(RedisConfig { address, password })
    }
}

fn command(parts: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for part in parts {
        out.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A RESP value (only what pub/sub answers).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<String>),
    Array(Vec<Reply>),
}

async fn read_reply<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Reply> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at(line.len().min(1));
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad redis reply");
    match kind {
        "+" => Ok(Reply::Simple(rest.to_owned())),
        "-" => Ok(Reply::Error(rest.to_owned())),
        ":" => rest.parse().map(Reply::Integer).map_err(|_| invalid()),
        "$" => {
            let len: i64 = rest.parse().map_err(|_| invalid())?;
            if len < 0 {
                return Ok(Reply::Bulk(None));
            }
            let len = usize::try_from(len).map_err(|_| invalid())?;
            let mut buffer = vec![0; len + 2];
            reader.read_exact(&mut buffer).await?;
            buffer.truncate(len);
            Ok(Reply::Bulk(Some(
                String::from_utf8_lossy(&buffer).into_owned(),
            )))
        }
        "*" => {
            let len: i64 = rest.parse().map_err(|_| invalid())?;
            let mut items = Vec::new();
            for _ in 0..len.max(0) {
                items.push(Box::pin(read_reply(reader)).await?);
            }
            Ok(Reply::Array(items))
        }
        _ => Err(invalid()),
    }
}

async fn connect(config: &RedisConfig) -> std::io::Result<BufReader<TcpStream>> {
    let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&config.address))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let mut reader = BufReader::new(stream);
    if let Some(password) = &config.password {
        reader
            .get_mut()
            .write_all(&command(&["AUTH", password]))
            .await?;
        if let Reply::Error(message) = read_reply(&mut reader).await? {
            return Err(std::io::Error::other(message));
        }
    }
    Ok(reader)
}

/// `PUBLISH channel payload` on a short-lived connection.
pub async fn publish(config: &RedisConfig, channel: &str, payload: &str) -> std::io::Result<()> {
    let mut reader = connect(config).await?;
    reader
        .get_mut()
        .write_all(&command(&["PUBLISH", channel, payload]))
        .await?;
    match read_reply(&mut reader).await? {
        Reply::Error(message) => Err(std::io::Error::other(message)),
        _ => Ok(()),
    }
}

/// Subscribes to `channel` and calls `on_message` for every payload, reconnecting after
/// errors; runs until the process ends.
pub async fn subscribe_forever(config: &RedisConfig, channel: &str, on_message: impl Fn(String)) {
    loop {
        match subscribe_once(config, channel, &on_message).await {
            Ok(()) => {}
            Err(error) => tracing::warn!(%error, "redis subscription lost; reconnecting"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn subscribe_once(
    config: &RedisConfig,
    channel: &str,
    on_message: &impl Fn(String),
) -> std::io::Result<()> {
    let mut reader = connect(config).await?;
    reader
        .get_mut()
        .write_all(&command(&["SUBSCRIBE", channel]))
        .await?;
    loop {
        if let Reply::Array(items) = read_reply(&mut reader).await?
            && let [Reply::Bulk(Some(kind)), _, Reply::Bulk(Some(payload))] = items.as_slice()
            && kind == "message"
        {
            on_message(payload.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert_eq!(
            RedisConfig::parse("redis://127.0.0.1:6379/0").unwrap(),
            RedisConfig {
                address: "127.0.0.1:6379".into(),
                password: None
            }
        );
        assert_eq!(
            RedisConfig::parse("redis://:s3cret@cache").unwrap(),
            RedisConfig {
                address: "cache:6379".into(),
                password: Some("s3cret".into())
            }
        );
        assert!(RedisConfig::parse("http://x").is_err());
    }

    #[test]
    fn commands_are_resp_arrays() {
        assert_eq!(
            command(&["PUBLISH", "c", "hi"]),
            b"*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$2\r\nhi\r\n"
        );
    }
}
