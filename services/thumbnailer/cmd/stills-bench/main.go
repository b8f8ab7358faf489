// Command stills-bench measures the thumbnailer against its physical
// limit and against the ffmpeg CLI, side by side in one run, on keyframes
// it makes with the ffmpeg CLI, and prints one table with the targets of
// issue 3 marked PASS or MISS. With -soak N it instead runs N decode+JPEG
// thumbnails and prints the process RSS along the way.
//
//	stills-bench [-d 2s] [-ffmpeg PATH]
//	stills-bench -soak 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"text/tabwriter"
	"time"
)

func main() {
	dur := flag.Duration("d", 2*time.Second, "time per throughput measurement")
	ffmpeg := flag.String("ffmpeg", "ffmpeg", "ffmpeg CLI (makes the keyframes, and is the reference)")
	soakN := flag.Int("soak", 0, "run N decode+JPEG thumbnails and report RSS instead of the table")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "stills-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *ffmpeg, *dur, *soakN); err != nil {
		fmt.Fprintln(os.Stderr, "stills-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1) //nolint:gocritic // the profile is stopped above
	}
}

func run(ctx context.Context, w io.Writer, ffmpeg string, d time.Duration, soakN int) error {
	path, err := exec.LookPath(ffmpeg)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "stills-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if soakN > 0 {
		return soak(ctx, w, path, dir, soakN)
	}
	return table(ctx, w, path, dir, d)
}

// row is one keyframe's measurements, thumbnails/s.
type row struct {
	k                           key
	decode, decJPEG, e2e1, e2e2 float64
	cliProc, cliLong            float64
	longFrames, longWant        int
}

func table(ctx context.Context, w io.Writer, ffmpeg, dir string, d time.Duration) error {
	var rows []row
	for _, s := range keySpecs {
		k, err := makeKey(ctx, ffmpeg, dir, s)
		if err != nil {
			return err
		}
		r := row{k: k}
		if r.decode, err = decodeOnly(k, d); err != nil {
			return fmt.Errorf("%s decode: %w", k.name, err)
		}
		if r.decJPEG, err = decodeJPEG(k, d); err != nil {
			return fmt.Errorf("%s decode+jpeg: %w", k.name, err)
		}
		n := max(50, int(r.decode*d.Seconds()*1.5))
		if r.e2e1, err = endToEnd(ctx, k, 1, n, dir+"/e2e1-"+k.path[len(dir)+1:]); err != nil {
			return fmt.Errorf("%s end to end: %w", k.name, err)
		}
		if r.e2e2, err = endToEnd(ctx, k, 2, 2*n, dir+"/e2e2-"+k.path[len(dir)+1:]); err != nil {
			return fmt.Errorf("%s end to end ×2: %w", k.name, err)
		}
		if r.cliProc, err = cliPerProcess(ctx, ffmpeg, k, d, dir); err != nil {
			return fmt.Errorf("%s cli: %w", k.name, err)
		}
		r.longWant = max(50, int(r.decode*d.Seconds()))
		if r.cliLong, r.longFrames, err = cliLongRunning(ctx, ffmpeg, k, r.longWant, dir); err != nil {
			return fmt.Errorf("%s long-running ffmpeg: %w", k.name, err)
		}
		rows = append(rows, r)
	}
	full, thumb, err := psnr(ctx, ffmpeg, rows[1].k)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "stills-bench: thumbnails/s; %d px JPEG q%d; skip_loop_filter=all everywhere; 1 core unless ×2; GOMAXPROCS cores: %d\n\n",
		thumbWidth, quality, numCPU())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "keyframe\tIDR bytes\tdecode only\tdecode+JPEG\tStills e2e ×1\tStills e2e ×2\tffmpeg/proc\tffmpeg long\te2e/decode ≥0.90\te2e/proc ≥6\te2e/long ≥1.05\t")
	for _, r := range rows {
		long := fmt.Sprintf("%.1f", r.cliLong)
		if r.longFrames != r.longWant {
			long += fmt.Sprintf(" (%d/%d frames)", r.longFrames, r.longWant)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t\n",
			r.k.name, len(r.k.au), r.decode, r.decJPEG, r.e2e1, r.e2e2, r.cliProc, long,
			verdict(r.e2e1/r.decode, 0.90), verdict(r.e2e1/r.cliProc, 6), verdict(r.e2e1/r.cliLong, 1.05))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nStills e2e ×2 per core vs decode only: ")
	for i, r := range rows {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %.2f", r.k.name, r.e2e2/2/r.decode)
	}
	fmt.Fprintf(w, "\nPSNR of skip_loop_filter=all vs the full decode, %s keyframe: %.2f dB at %dx%d, %.2f dB at %d px wide\n",
		rows[1].k.name, full, rows[1].k.width, rows[1].k.height, thumb, thumbWidth)
	return nil
}

func verdict(ratio, target float64) string {
	v := "MISS"
	if ratio >= target {
		v = "PASS"
	}
	return fmt.Sprintf("%.2f %s", ratio, v)
}
