package libav

// Fit returns the size a picture of srcW×srcH coded samples with sample
// aspect ratio sarNum:sarDen takes inside a boxW×boxH box:
//
//   - the display size is srcW·sar × srcH (the width is stretched, as
//     players do; an unknown or invalid SAR counts as 1:1);
//   - the picture keeps its display aspect ratio and is never upscaled
//     beyond the display size;
//   - a zero box side leaves that side unconstrained; a 0×0 box is the
//     display size itself;
//   - both sides are rounded to even numbers (4:2:0 JPEG), at least 2.
func Fit(srcW, srcH, sarNum, sarDen, boxW, boxH int) (w, h int) {
	if srcW <= 0 || srcH <= 0 {
		return 0, 0
	}
	if sarNum <= 0 || sarDen <= 0 {
		sarNum, sarDen = 1, 1
	}
	// Display size, in float to keep the ratio exact enough.
	dw := float64(srcW) * float64(sarNum) / float64(sarDen)
	dh := float64(srcH)
	scale := 1.0
	if boxW > 0 && float64(boxW) < dw*scale {
		scale = float64(boxW) / dw
	}
	if boxH > 0 && float64(boxH) < dh*scale {
		scale = float64(boxH) / dh
	}
	return even(dw*scale, limit(dw, boxW)), even(dh*scale, limit(dh, boxH))
}

// limit is the largest whole size a side may take: the box side when it is
// set and smaller than the display side, the display side otherwise.
func limit(display float64, box int) int {
	l := int(display + 1e-9)
	if box > 0 && box < l {
		l = box
	}
	return l
}

// even rounds v to the nearest even integer not above max, at least 2.
func even(v float64, max int) int {
	n := int(v/2+0.5) * 2
	if n > max {
		n = max &^ 1
	}
	if n < 2 {
		n = 2
	}
	return n
}
