//! Test support: generated Omniglot-like fixtures (PNG drawings, zips and
//! folders in the official layout) and a minimal HTTP/1.1 server on
//! 127.0.0.1, used by the tests of this crate and of `huashi-cli` so that no
//! test needs the network or the real data.

use image::codecs::png::PngEncoder;
use image::{ColorType, ImageEncoder};
use std::io::{Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use zip::write::SimpleFileOptions;

/// PNG bytes of an 8-bit greyscale image (`width × height` values).
pub fn png_bytes(grey: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(grey, width, height, ColorType::L8)
        .expect("encoding a PNG in memory");
    out
}

/// A 105×105 drawing: white background (255) and a black (0) block whose
/// position and size depend on `seed`.
pub fn drawing_png(seed: usize) -> Vec<u8> {
    let side = 105usize;
    let mut grey = vec![255u8; side * side];
    let (top, left) = (10 + (seed * 7) % 60, 10 + (seed * 13) % 60);
    let (h, w) = (12 + seed % 20, 8 + (seed / 3) % 25);
    for r in top..top + h {
        for c in left..left + w {
            grey[r * side + c] = 0;
        }
    }
    png_bytes(&grey, side as u32, side as u32)
}

/// The files of an Omniglot set in the official layout,
/// `{top}/Alphabet{a}/character{cc}/{id}_{dd}.png`, with `alphabets` ×
/// `characters` characters of `drawings` drawings each.
pub fn omniglot_files(
    top: &str,
    alphabets: usize,
    characters: usize,
    drawings: usize,
) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for a in 0..alphabets {
        for c in 1..=characters {
            let id = 1000 * (a + 1) + c;
            for d in 1..=drawings {
                let path = format!("{top}/Alphabet{a}/character{c:02}/{id:04}_{d:02}.png");
                files.push((path, drawing_png(id + d)));
            }
        }
    }
    files
}

/// A zip archive (stored, in memory) of `files`, with their folders.
pub fn zip_bytes(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut folders = std::collections::BTreeSet::new();
    for (path, data) in files {
        let mut folder = String::new();
        for part in path.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
            folder = format!("{folder}{part}/");
            if folders.insert(folder.clone()) {
                writer.add_directory(folder.as_str(), options).unwrap();
            }
        }
        writer.start_file(path.as_str(), options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A zip bomb: one deflated member `name` of `bytes` zero bytes (written in
/// chunks, so building it costs little memory; it compresses about 1000:1).
pub fn zip_bomb(name: &str, bytes: usize) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer.start_file(name, options).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        writer.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    writer.finish().unwrap().into_inner()
}

/// Writes `files` under `root` (creating folders).
///
/// # Errors
/// The first I/O error creating a folder or writing a file.
pub fn write_files(root: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    for (path, data) in files {
        let target = root.join(path);
        std::fs::create_dir_all(target.parent().expect("a file path has a parent"))?;
        std::fs::write(target, data)?;
    }
    Ok(())
}

/// The MD5 digest of `bytes` as 32 lower-case hex digits.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A minimal HTTP/1.1 server on 127.0.0.1 serving fixed files by path
/// (`GET /name` → the bytes of `name`, anything else → 404). It runs on a
/// background thread until the process ends.
#[derive(Debug)]
pub struct LoopbackServer {
    address: SocketAddr,
}

impl LoopbackServer {
    /// Starts a server on a free port of 127.0.0.1 serving `files`
    /// (`(name, bytes)`, served at `/name`).
    ///
    /// # Errors
    /// The I/O error when no port of 127.0.0.1 can be bound.
    pub fn start(files: Vec<(String, Vec<u8>)>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &files);
            }
        });
        Ok(LoopbackServer { address })
    }

    /// Starts a server on 127.0.0.1 that accepts connections and never
    /// answers (it holds them open until the process ends): a fetch from it
    /// must time out.
    ///
    /// # Errors
    /// The I/O error when no port of 127.0.0.1 can be bound.
    pub fn silent() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        });
        Ok(LoopbackServer { address })
    }

    /// Starts a server on 127.0.0.1 that answers every request with a body
    /// without a length that goes on until the client hangs up (bounded at
    /// [`ENDLESS_LIMIT`] bytes per connection): a fetch from it must stop at
    /// its size cap.
    ///
    /// # Errors
    /// The I/O error when no port of 127.0.0.1 can be bound.
    pub fn endless() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || stream_forever(stream));
            }
        });
        Ok(LoopbackServer { address })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// The most bytes [`LoopbackServer::endless`] sends on one connection.
pub const ENDLESS_LIMIT: u64 = 1 << 30;

fn stream_forever(mut stream: TcpStream) -> std::io::Result<()> {
    read_head(&mut stream)?;
    let header =
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
    stream.write_all(header.as_bytes())?;
    let chunk = vec![0u8; 1 << 16];
    let mut sent = 0u64;
    while sent < ENDLESS_LIMIT {
        stream.write_all(&chunk)?;
        sent += chunk.len() as u64;
    }
    Ok(())
}

fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte)? == 1 {
        head.push(byte[0]);
    }
    Ok(head)
}

fn answer(mut stream: TcpStream, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    let head = read_head(&mut stream)?;
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/");
    let found = files.iter().find(|(name, _)| target == format!("/{name}"));
    let (status, body): (&str, &[u8]) = match found {
        Some((_, data)) => ("200 OK", data),
        None => ("404 Not Found", b"not found"),
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}
