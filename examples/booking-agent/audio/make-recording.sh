#!/usr/bin/env bash
# Rebuilds audio/booking-call.wav: a caller booking a table (flite voice "slt", the voice the
# offline recognizer knows best), 16 kHz mono PCM s16le, with pauses for the agent's replies.
# Needs flite and sox (apt-get install flite sox). Deterministic: same input, same bytes.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say() { flite -voice slt -t "$1" -o "$tmp/$2.raw.wav" && sox -R "$tmp/$2.raw.wav" -r 16000 -c 1 -b 16 "$tmp/$2.wav"; }
gap() { sox -R -n -r 16000 -c 1 -b 16 "$tmp/$2.wav" trim 0 "$1"; }
gap 3.5 g0   # the agent greets the caller first
say "Hi. I would like to book a table for two tomorrow at seven." t1
gap 7 g1     # check_availability, then the agent's answer
say "Yes please. The name is Smith." t2
gap 7 g2     # book_table, then the confirmation
say "No, that is all. Thank you, goodbye." t3
gap 6 g3     # the agent says goodbye and hangs up before this ends
sox -R "$tmp"/g0.wav "$tmp"/t1.wav "$tmp"/g1.wav "$tmp"/t2.wav "$tmp"/g2.wav "$tmp"/t3.wav "$tmp"/g3.wav booking-call.wav
echo "wrote $(pwd)/booking-call.wav ($(soxi -D booking-call.wav) s)"
