package libav

import "testing"

func TestFit(t *testing.T) {
	tests := []struct {
		name                     string
		srcW, srcH, sarN, sarD   int
		boxW, boxH, wantW, wantH int
	}{
		{"source size when box is zero", 1280, 720, 1, 1, 0, 0, 1280, 720},
		{"unknown sar counts as square", 1280, 720, 0, 0, 0, 0, 1280, 720},
		{"fit width", 1920, 1080, 1, 1, 320, 0, 320, 180},
		{"fit height", 1920, 1080, 1, 1, 0, 180, 320, 180},
		{"box narrower than picture", 1920, 1080, 1, 1, 320, 320, 320, 180},
		{"box flatter than picture", 1920, 1080, 1, 1, 640, 90, 160, 90},
		{"never upscale", 640, 360, 1, 1, 1920, 1080, 640, 360},
		{"anamorphic 4:3 sar stretches width", 1440, 1080, 4, 3, 0, 0, 1920, 1080},
		{"anamorphic pal 16:9", 720, 576, 64, 45, 0, 0, 1024, 576},
		{"anamorphic into box", 720, 576, 64, 45, 320, 320, 320, 180},
		{"tall sar", 1920, 1080, 1, 2, 0, 0, 960, 1080},
		{"even rounding", 1280, 720, 1, 1, 333, 0, 332, 188},
		{"odd box never exceeded", 1280, 720, 1, 1, 321, 0, 320, 180},
		{"odd source stays inside", 641, 361, 1, 1, 0, 0, 640, 360},
		{"tiny box gives at least 2", 1920, 1080, 1, 1, 1, 1, 2, 2},
		{"empty source", 0, 0, 1, 1, 320, 180, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, h := Fit(tc.srcW, tc.srcH, tc.sarN, tc.sarD, tc.boxW, tc.boxH)
			if w != tc.wantW || h != tc.wantH {
				t.Fatalf("Fit(%d,%d,%d:%d,box %dx%d) = %dx%d, want %dx%d",
					tc.srcW, tc.srcH, tc.sarN, tc.sarD, tc.boxW, tc.boxH, w, h, tc.wantW, tc.wantH)
			}
		})
	}
}

func TestQScale(t *testing.T) {
	tests := []struct{ quality, want int }{
		{100, 2}, {80, 8}, {50, 17}, {1, 31}, {0, 8}, {-5, 31}, {500, 2},
	}
	for _, tc := range tests {
		if got := QScale(tc.quality); got != tc.want {
			t.Errorf("QScale(%d) = %d, want %d", tc.quality, got, tc.want)
		}
	}
	for q := 2; q <= 100; q++ {
		if QScale(q) > QScale(q-1) {
			t.Fatalf("QScale not monotonic at %d", q)
		}
	}
}
