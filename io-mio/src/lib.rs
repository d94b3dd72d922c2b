//! confab-mio: runs a confab engine on real TCP sockets, files and a redb store with a mio event loop.
