//! WebKitGTK's renderer on a Linux machine without a GPU.
//!
//! WebKitGTK (2.42 and later) composites through its DMA-BUF renderer, with OpenGL. Where the
//! machine has no DRM render node (`/dev/dri/renderD*`: virtual machines and VDI desktops
//! without GPU passthrough, remote X, Xvfb) Mesa can only run that OpenGL on the CPU (llvmpipe),
//! which paints slower than WebKit's own CPU rasterizer and takes the cores the engine draws
//! charts on: under Xvfb on 2 cores a thing's click → charts painted took 0.22 s with it and
//! 0.15 s without (BENCHMARKS.md). There, and only when the analyst has not set it, the app sets
//! `WEBKIT_DISABLE_DMABUF_RENDERER=1` before the webview starts. A value the analyst sets (`0`
//! too) is kept; a machine with a render node keeps WebKit's default.

/// The variable that turns WebKitGTK's DMA-BUF renderer off.
pub const DISABLE_DMABUF: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";

/// Whether to turn the DMA-BUF renderer off: only when nobody set the variable and the machine
/// has no render node to run it on.
pub fn disable_dmabuf(user_set: bool, has_render_node: bool) -> bool {
    !user_set && !has_render_node
}

/// Whether `/dev/dri` holds a render node (`renderD128`, …).
#[cfg(target_os = "linux")]
fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Applies [`disable_dmabuf`]: call first in `main`, while no other thread can read the
/// environment. Returns whether it turned the renderer off.
#[cfg(target_os = "linux")]
pub fn configure() -> bool {
    let off = disable_dmabuf(
        std::env::var_os(DISABLE_DMABUF).is_some(),
        has_render_node(),
    );
    if off {
        std::env::set_var(DISABLE_DMABUF, "1");
    }
    off
}

/// Not Linux: WebKitGTK is not the webview.
#[cfg(not(target_os = "linux"))]
pub fn configure() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_renderer_is_turned_off_only_without_a_render_node_and_a_choice_of_the_analyst() {
        assert!(disable_dmabuf(false, false), "no GPU, nothing set: off");
        assert!(
            !disable_dmabuf(false, true),
            "a render node: WebKit's default"
        );
        assert!(!disable_dmabuf(true, false), "the analyst's value is kept");
        assert!(!disable_dmabuf(true, true));
    }
}
