//! [`Lines`]: the input thread's standard input in full-screen mode. The
//! interface sends each line the person entered through a channel; this
//! reads them back as bytes, so the line interface's own reader
//! ([`crate::peer::input::read_lines`]) parses and paces them unchanged.
//! The channel closing is the end of input (the peer quits).

use std::io::{BufRead, Read};
use std::sync::mpsc::Receiver;

#[derive(Debug)]
pub struct Lines {
    from: Receiver<String>,
    buf: Vec<u8>,
    at: usize,
}

impl Lines {
    pub fn new(from: Receiver<String>) -> Self {
        Self {
            from,
            buf: Vec::new(),
            at: 0,
        }
    }
}

impl Read for Lines {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let got = self.fill_buf()?;
        let n = got.len().min(out.len());
        out[..n].copy_from_slice(&got[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Lines {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
            if let Ok(line) = self.from.recv() {
                // A line never holds a break of its own: one line, one command.
                self.buf.extend(line.replace(['\n', '\r'], " ").bytes());
                self.buf.push(b'\n');
            }
        }
        Ok(&self.buf[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at = (self.at + n).min(self.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_then_the_end() {
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send("/who".to_owned()).unwrap();
        tx.send("a\nb".to_owned()).unwrap();
        drop(tx);
        let mut text = String::new();
        Lines::new(rx).read_to_string(&mut text).unwrap();
        assert_eq!(text, "/who\na b\n");
    }
}
