//! `bench`: page through a large `account` table over loopback with a raw HTTP/1.1 client.

fn _unused() {}
pub async fn run(_records: usize, _page_size: usize) -> anyhow::Result<()> {
    anyhow::bail!("bench not implemented yet")
}
