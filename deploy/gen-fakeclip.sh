#!/bin/sh
# Regenerates the clip behind fake:// sources: 30 s of ffmpeg's testsrc
# (colour pattern with a running seconds counter, so successive segment
# pictures differ), 640x360, 25 fps, one IDR per second, no B-frames, raw
# Annex-B H.264. The output is committed; run this only to change it.
set -eu
out="$(dirname "$0")/../services/ingest/internal/source/fakeclip/clip.h264"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=640x360:rate=25 -t 30 \
  -c:v libx264 -preset veryfast -tune zerolatency -bf 0 -g 25 -keyint_min 25 -sc_threshold 0 \
  -crf 32 -pix_fmt yuv420p -bsf:v h264_mp4toannexb "$out"
