//! A windowed list: with a fixed row height, the scroll offset alone says which rows are in view, so a
//! list of 12,500 rows renders a few dozen (plus two spacers that keep the scroll height).

use std::ops::Range;

/// Height of one row of the resource table, in CSS pixels (`.inv-table tbody tr` in style.css).
pub const ROW_HEIGHT: f64 = 32.0;
/// Height of the scrolling area, in CSS pixels (`.inv-scroll`).
pub const VIEWPORT: f64 = 480.0;
/// Rows rendered beyond each edge of the viewport, so a small scroll shows no gap.
pub const OVERSCAN: usize = 8;

/// The rows to render and the spacers' heights around them.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub rows: Range<usize>,
    /// Height of the spacer above the rows (the rows scrolled past).
    pub before: f64,
    /// Height of the spacer below them.
    pub after: f64,
}

/// The rows of a `total`-row list in view at `scroll_top` in a `viewport`-high area, with `overscan` rows
/// either side. Any input is accepted: a negative, NaN or too-large offset (the list got shorter while
/// scrolled down) is clamped, never a panic.
///
/// ```
/// use identity_wizard::inventory::window::window;
/// let w = window(12_500, 3_200.0, 32.0, 480.0, 8);
/// assert_eq!(w.rows, 92..124); // row 100 at the top, up to 16 (partly) in view, 8 either side
/// assert_eq!(w.before + (w.rows.len() as f64) * 32.0 + w.after, 12_500.0 * 32.0);
/// ```
pub fn window(
    total: usize,
    scroll_top: f64,
    row_height: f64,
    viewport: f64,
    overscan: usize,
) -> Window {
    if total == 0 || row_height.is_nan() || row_height <= 0.0 {
        return Window {
            rows: 0..0,
            before: 0.0,
            after: 0.0,
        };
    }
    let in_view = (viewport.max(0.0) / row_height).ceil() as usize + 1;
    let max_first = total.saturating_sub(in_view.min(total));
    let top = if scroll_top.is_finite() {
        scroll_top.max(0.0)
    } else {
        0.0
    };
    let first = ((top / row_height).floor() as usize).min(max_first);
    let start = first.saturating_sub(overscan);
    let end = (first + in_view + overscan).min(total);
    Window {
        rows: start..end,
        before: start as f64 * row_height,
        after: (total - end) as f64 * row_height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_middle_and_bottom() {
        let w = window(12_500, 0.0, 32.0, 480.0, 8);
        assert_eq!(w.rows, 0..24);
        assert_eq!(w.before, 0.0);
        let w = window(12_500, 1e9, 32.0, 480.0, 8);
        assert_eq!(w.rows.end, 12_500);
        assert_eq!(w.after, 0.0);
        assert!(w.rows.len() <= 16 + 8 + 8);
        for top in [0.0, 31.9, 32.0, 5_000.5, 399_000.0] {
            let w = window(12_500, top, 32.0, 480.0, 8);
            // the rows in view are rendered, and the heights add up to the list's
            let first = (top / 32.0) as usize;
            assert!(
                w.rows.start <= first && w.rows.end >= (first + 15).min(12_500),
                "{top}: {w:?}"
            );
            assert_eq!(
                w.before + w.rows.len() as f64 * 32.0 + w.after,
                12_500.0 * 32.0
            );
        }
    }

    #[test]
    fn short_empty_and_odd_inputs() {
        assert_eq!(window(3, 0.0, 32.0, 480.0, 8).rows, 0..3);
        assert_eq!(window(3, 900.0, 32.0, 480.0, 8).rows, 0..3);
        assert_eq!(window(0, 10.0, 32.0, 480.0, 8).rows, 0..0);
        assert_eq!(window(100, f64::NAN, 32.0, 480.0, 0).rows, 0..16);
        assert_eq!(window(100, -50.0, 32.0, 480.0, 0).rows, 0..16);
        assert_eq!(window(100, 10.0, 0.0, 480.0, 0).rows, 0..0);
    }
}
