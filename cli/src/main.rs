//! confab: the command-line program (registry and peer); built on confab-mio.

fn main() {
    eprintln!("confab: the command line is not built yet (see issue 5)");
    std::process::exit(2);
}
