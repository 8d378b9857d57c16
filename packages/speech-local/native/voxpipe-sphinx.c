/*
 * voxpipe-sphinx: a pocketsphinx 5prealpha streaming recognizer for @voxpipe/speech-local.
 *
 * Why a helper process: decoding runs off Node's event loop, a crash in the C
 * library kills one stream instead of the server, and the kernel accounts each
 * stream's CPU. Why fork per stream: the acoustic model, dictionary and 27 MB
 * trigram LM are loaded ONCE in this parent and shared copy-on-write by every
 * stream's child (pocketsphinx 5prealpha has no API to share a model between
 * decoders, but fork gives the same effect; a child only dirties its search state).
 *
 * Usage: voxpipe-sphinx <unix-socket-path> <hmm-dir> <lm.bin> <dict> [partial-interval-s [-arg value]...]
 * Prints one JSON line {"type":"ready",...} on stdout once listening; exits when
 * stdin reaches EOF (its Node parent went away).
 *
 * Per connection (one audio stream, 16 kHz mono s16le), client -> helper frames:
 *   [u8 kind][u32 little-endian length][payload]
 *   'A' audio samples
 *   'F' finalize the current utterance now. Payload empty, or a stream time in seconds as
 *       ASCII decimal ("8.320"): the carry point. Then the next utterance starts by
 *       re-decoding the audio from that time on (kept for CARRY_MAX_S), so a word that had
 *       begun when the turn was ended is decoded whole in the next utterance instead of
 *       being cut at the finalize. The final then carries "carry_from" (the time re-decoded
 *       from, on the 10 ms grid, later than asked when the audio was no longer kept): its
 *       words starting at or after it, and those of any earlier final, are reported again
 *       by the next utterance.
 *   'K' keyterms, '\n'-separated (applied at the next utterance start)
 *   'P' settle: the words of the utterance so far as if it ended now (lattice pass,
 *       posteriors), answered with a "settled" line, WITHOUT ending it: a forked copy of
 *       this decoder ends the utterance and reports, so if the speaker goes on, this
 *       decoder continues with the sentence's full context
 *   'S' request stats
 *   'G' search gate (no reply). Payload empty: close it — audio written from now on is kept
 *       (for CARRY_MAX_S) and counted in stream time but not searched. Payload a stream time
 *       in seconds as ASCII decimal ("8.320"): open it, first searching the kept audio from
 *       that time on (the look-back, for an onset the client's VAD heard late; never audio
 *       already searched, never before the oldest kept), then all audio as it comes. Any other
 *       payload opens it with all the kept audio not yet searched. The audio between the close
 *       and the resumption point is skipped, and word times stay in stream time. A skip
 *       shorter than -vad_postspeech joins the two pieces into one utterance (unless
 *       pocketsphinx's own VAD hears that much silence across the join); once the skipped
 *       audio reaches -vad_postspeech, the utterance ends there ("endpoint"), as it would
 *       have had the search heard the silence. A client that never sends 'G' gets every frame
 *       searched, as before.
 *   'C' cepstral mean prior: comma-separated floats (one per cepstral coefficient), set
 *       before the first audio to start from a mean the client knows (e.g. the same caller's
 *       previous connection) instead of the model's default (-cmninit); either way the mean
 *       then adapts to the stream's own audio (see "fast warm-up" below)
 *   'I' starting mean of the warm-up, same format as 'C', set before the first audio: the
 *       mean of a kind of channel (e.g. telephone audio, band-limited to 4 kHz), used in
 *       place of the model's -cmninit and weighed like it (the stream's own frames soon
 *       take over), where 'C' is one caller's own mean and keeps full weight
 * helper -> client: JSON lines (see emit_* below). Times are seconds of stream audio.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <pocketsphinx.h>
#include <ps_lattice.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/ngram_model.h>

#define SAMPLE_RATE 16000
#define FRAME_RATE 100 /* pocketsphinx default -frate */
#define MAX_WORDS 512
#define KEYTERM_MAXHMMPF 10000 /* active HMMs per frame while keyterms are boosted */

static ps_decoder_t *ps;
static cmd_ln_t *config;
static ngram_model_t *main_lm; /* the decoder's own trigram LM, used for P(</s>) */
static const char *lm_path;

/* ---------- output ---------- */
static FILE *out;

static void json_str(const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20) fprintf(out, "\\u%04x", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

/* Strip "(2)"-style pronunciation variant markers in place. */
static void strip_variant(char *w) {
  char *p = strchr(w, '(');
  if (p && p != w) *p = '\0';
}

static int is_filler(const char *w) {
  return w[0] == '<' || w[0] == '[' || strncmp(w, "++", 2) == 0;
}

/* A word and its evidence for the word confidence: times (s), lattice posterior c (1 when
 * unscored), acoustic score per 10 ms frame (ln, relative to the best senone of each frame:
 * 0 = the best-matching sound everywhere), phones in its pronunciation. */
typedef struct { char w[64]; double s, e, c, ac; int phones; } word_t;

/* Phones in the dictionary pronunciation of w (with its "(2)" variant marker), 0 if unknown. */
static int count_phones(const char *w) {
  char *pron = ps_lookup_word(ps, w);
  if (!pron) return 0;
  int n = 0;
  for (char *tok = strtok(pron, " "); tok; tok = strtok(NULL, " ")) n++;
  ckd_free(pron);
  return n;
}

/* Collect the current best hypothesis' words (works mid-utterance for partials).
 * Frame numbers count from the start of the stream (pocketsphinx keeps counting across
 * utterances and removed silence), so they convert straight to stream time. `lattice`: the
 * segments come from the -bestpath lattice (after the utterance ended), whose acoustic
 * scores are in logmath units; the first pass's are shifted down by SENSCR_SHIFT. */
#define SENSCR_SHIFT 10 /* pocketsphinx's hmm.h: senone scores are logmath >> 10 */
static double time_shift; /* s of re-decoded (carried) audio the decoder's frame counter also counted, minus s the gate skipped */
/* The search gate ('G') joins audio across skipped stretches inside an utterance, so one
 * utterance's frames can carry different shifts: each join records the shift of the frames
 * before it. Cleared when an utterance ends (its words are reported by then). */
typedef struct { long long frame; double shift; } shift_mark_t;
static shift_mark_t *shift_marks;
static int n_shift_marks, cap_shift_marks;

/* Stream time minus decoder time of decoder frame f, s (before the onset correction). */
static double shift_at(long long f) {
  for (int i = 0; i < n_shift_marks; i++)
    if (f < shift_marks[i].frame) return shift_marks[i].shift;
  return time_shift;
}
static double onset_shift; /* s this utterance's frame numbers run early (see note_onset) */
static int collect_words(word_t *ws, int lattice) {
  int n = 0;
  logmath_t *lmath = ps_get_logmath(ps);
  for (ps_seg_t *it = ps_seg_iter(ps); it && n < MAX_WORDS; it = ps_seg_next(it)) {
    const char *w = ps_seg_word(it);
    if (is_filler(w)) continue;
    int sf, ef;
    ps_seg_frames(it, &sf, &ef);
    int32 ascr, lscr, lback;
    int32 post = ps_seg_prob(it, &ascr, &lscr, &lback);
    ws[n].phones = count_phones(w);
    double ascr_log = lattice ? (double)ascr : (double)ascr * (1 << SENSCR_SHIFT);
    ws[n].ac = logmath_log_to_ln(lmath, 1) * ascr_log / (ef - sf + 1 > 0 ? ef - sf + 1 : 1);
    snprintf(ws[n].w, sizeof ws[n].w, "%s", w);
    strip_variant(ws[n].w);
    ws[n].s = (double)sf / FRAME_RATE - shift_at(sf) + onset_shift;
    ws[n].e = (double)(ef + 1) / FRAME_RATE - shift_at(ef) + onset_shift;
    double c = logmath_exp(lmath, post);
    ws[n].c = c > 1.0 ? 1.0 : (c < 0.0 ? 0.0 : c);
    n++;
  }
  return n;
}

/* P(</s> | w[-2] w[-1]) from the decoder's trigram LM; P(</s> | <s>) when no words. */
static double eos_prob(word_t *ws, int n) {
  const char *words[3];
  int k = 0;
  words[k++] = "</s>";
  if (n >= 1) words[k++] = ws[n - 1].w;
  else words[k++] = "<s>";
  if (n >= 2) words[k++] = ws[n - 2].w;
  else if (n == 1) words[k++] = "<s>";
  int32 lp = ngram_prob(main_lm, words, k);
  return logmath_exp(ps_get_logmath(ps), lp);
}

/* `lattice`: the utterance has ended (a final, or a settled copy), so its words come from the
 * -bestpath lattice; partials and a settle without its copy have first-pass words. */
static void emit_hyp(const char *type, double audio_t, int lattice, const char *extra) {
  static word_t ws[MAX_WORDS];
  int n = collect_words(ws, lattice);
  fprintf(out, "{\"type\":\"%s\",\"audio_t\":%.3f,\"in_speech\":%s,\"words\":[", type, audio_t,
          ps_get_in_speech(ps) ? "true" : "false");
  for (int i = 0; i < n; i++) {
    fprintf(out, "%s{\"w\":", i ? "," : "");
    json_str(ws[i].w);
    fprintf(out, ",\"start\":%.3f,\"end\":%.3f,\"conf\":%.4f,\"ac\":%.3f,\"phones\":%d}", ws[i].s, ws[i].e,
            ws[i].c, ws[i].ac, ws[i].phones);
  }
  fprintf(out, "],\"eos\":%.6f", eos_prob(ws, n));
  if (extra) fputs(extra, out);
  if (strcmp(type, "final") == 0) {
    /* The cepstral mean after this utterance: the client keeps it as the prior of later streams. */
    feat_t *fcb = ps_get_feat(ps);
    mfcc_t mean[64];
    if (fcb && fcb->cmn_struct && fcb->cmn_struct->veclen <= 64) {
      cmn_live_get(fcb->cmn_struct, mean);
      fputs(",\"cmn\":[", out);
      for (int i = 0; i < fcb->cmn_struct->veclen; i++) fprintf(out, "%s%.3f", i ? "," : "", MFCC2FLOAT(mean[i]));
      fputc(']', out);
    }
  }
  fputs("}\n", out);
  fflush(out);
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU of this process's finished (waited-for) children: the settle copies. */
static double children_cpu_seconds(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_CHILDREN, &ru) != 0) return 0;
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long rss_kb(void) {
  /* Private (dirtied) memory of this process: what one stream costs on top of the shared model. */
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  long priv = -1, v;
  char line[256];
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "Private_Dirty: %ld kB", &v) == 1) priv = (priv < 0 ? 0 : priv) + v;
    if (sscanf(line, "Private_Clean: %ld kB", &v) == 1) priv = (priv < 0 ? 0 : priv) + v;
  }
  fclose(f);
  return priv;
}

/* ---------- keyterms: interpolate the main LM with a small LM of the keyterm phrases ---------- */
static char *pending_keyterms; /* NULL = nothing pending */

static void apply_keyterms(const char *text) {
  /* Split into words, keep those the dictionary knows. */
  char *copy = strdup(text), *save = NULL;
  char known[4096] = "", unknown[4096] = "";
  char arpa_path[] = "/tmp/voxpipe-keyterms-XXXXXX";
  int fd = mkstemp(arpa_path);
  if (fd < 0) { free(copy); return; }
  FILE *f = fdopen(fd, "w");
  /* ARPA: unigrams of every known keyterm word, bigrams inside each phrase. */
  char uni[8192] = "", bi[8192] = "";
  int n_uni = 0, n_bi = 0;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char prev[48] = "";
    char *wsave = NULL;
    for (char *w = strtok_r(line, " \t", &wsave); w; w = strtok_r(NULL, " \t", &wsave)) {
      for (char *p = w; *p; p++) if (*p >= 'A' && *p <= 'Z') *p += 32;
      char *pron = ps_lookup_word(ps, w);
      if (!pron) {
        if (strlen(unknown) + strlen(w) + 4 < sizeof unknown) { if (*unknown) strcat(unknown, ","); strcat(unknown, "\""); strcat(unknown, w); strcat(unknown, "\""); }
        prev[0] = '\0';
        continue;
      }
      ckd_free(pron);
      char needle[80];
      snprintf(needle, sizeof needle, " %s\n", w);
      if (!strstr(uni, needle) && strlen(uni) + strlen(w) + 16 < sizeof uni) {
        strcat(uni, "-1.0 ");
        strcat(uni, w);
        strcat(uni, "\n");
        n_uni++;
        if (strlen(known) + strlen(w) + 4 < sizeof known) { if (*known) strcat(known, ","); strcat(known, "\""); strcat(known, w); strcat(known, "\""); }
      }
      if (*prev && strlen(w) < 48 && strlen(bi) + strlen(prev) + strlen(w) + 16 < sizeof bi) {
        snprintf(bi + strlen(bi), sizeof bi - strlen(bi), "-0.1 %s %s\n", prev, w);
        n_bi++;
      }
      snprintf(prev, sizeof prev, "%s", w);
    }
  }
  free(copy);
  int ok = 0;
  if (n_uni > 0) {
    fprintf(f, "\\data\\\nngram 1=%d\n", n_uni + 2);
    if (n_bi) fprintf(f, "ngram 2=%d\n", n_bi);
    fprintf(f, "\n\\1-grams:\n-1.0 </s>\n-99 <s>\n%s", uni);
    if (n_bi) fprintf(f, "\n\\2-grams:\n%s", bi);
    fprintf(f, "\n\\end\\\n");
    fclose(f);
    ngram_model_t *kt = ngram_model_read(config, arpa_path, NGRAM_ARPA, ps_get_logmath(ps));
    if (kt) {
      ngram_model_t *models[2] = {ngram_model_retain(main_lm), kt};
      char *names[2] = {"main", "keyterms"};
      /* 2 % of the probability mass goes to keyterm phrases: rare words gain orders of
       * magnitude while common words lose almost nothing. */
      const float32 weights[2] = {0.98f, 0.02f};
      ngram_model_t *set = ngram_model_set_init(config, models, names, weights, 2);
      /* A boosted phrase often starts as an unlikely path: a tight HMM cap (-maxhmmpf, set
       * low for speed) prunes it before the boost can pay off, so the keyterm search gets a
       * wider one. The search reads the value when it is created. */
      int32 maxhmmpf = cmd_ln_int32_r(config, "-maxhmmpf");
      if (maxhmmpf >= 0 && maxhmmpf < KEYTERM_MAXHMMPF) cmd_ln_set_int32_r(config, "-maxhmmpf", KEYTERM_MAXHMMPF);
      if (set && ps_set_lm(ps, "keyterms", set) == 0 && ps_set_search(ps, "keyterms") == 0) ok = 1;
      cmd_ln_set_int32_r(config, "-maxhmmpf", maxhmmpf);
    }
  } else {
    fclose(f);
    /* No usable keyterm: back to the plain LM. */
    ok = ps_set_search(ps, "_default") == 0;
  }
  unlink(arpa_path);
  fprintf(out, "{\"type\":\"keyterms\",\"applied\":%s,\"known\":[%s],\"unknown\":[%s]}\n",
          ok ? "true" : "false", known, unknown);
  fflush(out);
}

/* ---------- cepstral mean: prior and fast warm-up ----------
 * Live CMN in pocketsphinx subtracts a mean that changes only at utterance ends (or after
 * 8 s), so a stream's first utterance is normalised entirely with the starting mean (the
 * model's -cmninit, or a prior): when the caller's channel differs, that utterance is
 * garbled. Unless the client sets a prior ('C'), during warm-up the mean follows the
 * stream's own frames instead: after every
 * 10 ms it is the running mean of the frames so far, with the starting mean counted as
 * CMN_PRIOR_FRAMES frames, until CMN_WIN frames are in (≈3 s of speech; pocketsphinx
 * feeds CMN speech frames only), after which pocketsphinx's own window takes over. */
/* 2 s: with 1 s, "…on saturday morning" (the first utterance of flite_mid_pause) became
 * "…saturday my name"; with 3 s the reconnect turn of the README stayed garbled. */
#define CMN_PRIOR_FRAMES 200
static int cmn_warming; /* the stream's mean still follows every frame */

static void cmn_start_warmup(void) {
  feat_t *fcb = ps_get_feat(ps);
  if (!fcb || !fcb->cmn_struct) return;
  cmn_t *c = fcb->cmn_struct;
  for (int i = 0; i < c->veclen; i++) c->sum[i] = c->cmn_mean[i] * CMN_PRIOR_FRAMES;
  c->nframe = CMN_PRIOR_FRAMES;
  cmn_warming = 1;
}

static void cmn_warmup_step(void) {
  cmn_t *c = ps_get_feat(ps)->cmn_struct;
  if (c->nframe >= CMN_WIN || c->nframe < CMN_PRIOR_FRAMES) { cmn_warming = 0; return; }
  for (int i = 0; i < c->veclen; i++) c->cmn_mean[i] = c->sum[i] / c->nframe;
}

/* 'C' (warm = 0): the caller's own mean, full weight; 'I' (warm = 1): a starting mean for
 * the warm-up, in place of the model's -cmninit. */
static void set_cmn_prior(const char *text, uint32_t len, int warm) {
  feat_t *fcb = ps_get_feat(ps);
  if (!fcb || !fcb->cmn_struct || fcb->cmn_struct->veclen > 64) return;
  char copy[1024];
  if (len >= sizeof copy) return;
  memcpy(copy, text, len);
  copy[len] = '\0';
  mfcc_t mean[64];
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok && n < 64; tok = strtok_r(NULL, ",", &save))
    mean[n++] = FLOAT2MFCC(atof(tok));
  if (n != fcb->cmn_struct->veclen) return;
  cmn_live_set(fcb->cmn_struct, mean);
  /* 'I' is only a start: the warm-up follows the stream's own frames. A mean the client vouches
   * for ('C', the same caller's) keeps pocketsphinx's full weight: measured, warming up from it
   * again cost words (15 % → 25 % on a reconnect). */
  if (warm) cmn_start_warmup();
  else cmn_warming = 0;
}

/* ---------- one stream ---------- */
static int read_full(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r == 0) return 0;
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    got += (size_t)r;
  }
  return 1;
}

/* Per-stream state. */
static long long samples;    /* stream audio so far */
static long long fed;        /* samples given to the decoder: stream audio plus re-decoded audio, less what the gate skipped */
static long long utt_fed;    /* ...of which since the current utterance started */
static int onset_noted;      /* the front end's VAD has heard speech in this utterance */
/* The latest audio, kept to re-decode it after a finalize with a carry point ('F'). 2 s: a
 * turn end fires within ≈1 s of its last word (the eval's median EOT is ≈0.5 s). */
#define CARRY_MAX_S 2
static int16_t carry_ring[CARRY_MAX_S * SAMPLE_RATE]; /* sample i of the stream at i % size */
static long long last_partial;
static int in_utt;           /* pocketsphinx has heard speech in this utterance */
/* The search gate ('G'): while closed, audio is kept and counted but not searched. */
static int gate_closed;
static long long fed_to;     /* stream sample the search continues with */
static double partial_every_s;
static long long gap_endpoint; /* skipped samples that end the utterance: -vad_postspeech */
/* Where the decoder's CPU goes (reported by 'S'): utterance ends (final search + lattice)
 * and settles (the forked copies, plus the fork itself in this process). */
static double final_cpu_s, settle_fork_cpu_s;
static int settles;

/* Audio the search has seen, s: pocketsphinx's energy VAD (-remove_silence) drops the frames
 * it calls silence, beyond -vad_prespeech/-vad_postspeech frames around speech. */
static double searched_seconds(void) {
  double speech, cpu, wall;
  ps_get_all_time(ps, &speech, &cpu, &wall);
  return speech + (double)(ps_get_n_frames(ps) - 1) / FRAME_RATE;
}

/* The kept audio from stream sample `from` (on the 10 ms grid, clamped to what is kept) to
 * now, or -1 when there is none. */
static long long carry_start(double from_s) {
  long long from = (long long)(from_s * FRAME_RATE + 1e-6) * (SAMPLE_RATE / FRAME_RATE);
  long long oldest = samples - CARRY_MAX_S * SAMPLE_RATE;
  if (oldest > from) from = (oldest + SAMPLE_RATE / FRAME_RATE - 1) / (SAMPLE_RATE / FRAME_RATE) * (SAMPLE_RATE / FRAME_RATE);
  if (from < 0) from = 0;
  return from < samples ? from : -1;
}

/* Start an utterance; its frame numbers are dated when its front end hears speech. */
static void start_utterance(void) {
  ps_start_utt(ps);
  utt_fed = 0;
  onset_noted = 0;
  onset_shift = 0;
}

/* The first time in an utterance that the front end's VAD hears speech, correct the date the
 * decoder gives the utterance. sphinxbase's front end keeps the frames before speech in a buffer
 * of -vad_prespeech + 1 frames (fe_prespch_buf) and, once -vad_startspeech speech frames have
 * passed, dates the utterance's first frame -vad_prespeech frames before the current one, as if
 * that buffer were full (fe_check_prespeech). An utterance started fewer frames than that before
 * its speech (after a finalize without a carry point mid-speech, or an endpoint just before new
 * speech) holds only the n frames it has made, so all its words came (pre_speech + 1 - n) frames
 * early: 0.11 s after a finalize mid-word. Dates in the stream's first -vad_prespeech frames are
 * exact: pocketsphinx then keeps frame 0. */
static void note_onset(void) {
  if (onset_noted || !ps_get_in_speech(ps)) return;
  onset_noted = 1;
  int shift = 0, size = 0;
  fe_get_input_size(ps_get_fe(ps), &shift, &size);
  long long pre_speech = cmd_ln_int32_r(config, "-vad_prespeech");
  if (shift <= 0 || fed / shift <= pre_speech) return;
  /* The frames the front end has made in this utterance, all of them kept while not in speech. */
  long long made = utt_fed < size ? 0 : 1 + (utt_fed - size) / shift;
  if (made < pre_speech + 1) onset_shift = (double)(pre_speech + 1 - made) * shift / SAMPLE_RATE;
}

/* Give the decoder k samples of audio: the stream's audio from fed_to on (new, or kept audio
 * re-decoded or searched late). */
static void decode(const int16_t *pcm, size_t k) {
  ps_process_raw(ps, pcm, k, FALSE, FALSE);
  if (cmn_warming) cmn_warmup_step();
  fed += (long long)k;
  utt_fed += (long long)k;
  fed_to += (long long)k;
  note_onset();
}

/* The search goes on with stream sample `from`: earlier than where it is (audio decoded
 * again) or later (audio the gate skipped). The decoder's frame counter does not follow the
 * jump, so word times from here on shift by it; frames before keep their shift. */
static void reposition(long long from) {
  if (from == fed_to) return;
  if (n_shift_marks == cap_shift_marks) {
    cap_shift_marks = cap_shift_marks ? 2 * cap_shift_marks : 16;
    shift_marks = realloc(shift_marks, (size_t)cap_shift_marks * sizeof *shift_marks);
  }
  shift_marks[n_shift_marks++] = (shift_mark_t){fed / (SAMPLE_RATE / FRAME_RATE), time_shift};
  time_shift += (fed_to - from) / (double)SAMPLE_RATE;
  fed_to = from;
}

/* The kept audio from stream sample `at` on, up to 160 samples, into `piece`; returns how many. */
static size_t kept_piece(long long at, int16_t *piece) {
  size_t k = samples - at > 160 ? 160 : (size_t)(samples - at);
  for (size_t i = 0; i < k; i++) piece[i] = carry_ring[(at + (long long)i) % (CARRY_MAX_S * SAMPLE_RATE)];
  return k;
}

/* Re-decode the kept audio from stream sample `from` into the utterance just started (word
 * times shift back by its length, see reposition). Not fed through feed(): no stream time
 * passes, and an endpoint inside it waits for the next audio. */
static void refeed(long long from) {
  int16_t piece[160];
  reposition(from);
  while (fed_to < samples) decode(piece, kept_piece(fed_to, piece));
  if (ps_get_in_speech(ps)) in_utt = 1;
}

/* A final with no words (no utterance was in progress), `extra` appended to its fields. */
static void emit_empty_final(const char *extra) {
  fprintf(out, "{\"type\":\"final\",\"audio_t\":%.3f,\"in_speech\":false,\"words\":[],\"eos\":0%s}\n",
          samples / (double)SAMPLE_RATE, extra);
  fflush(out);
}

/* End the utterance (reported as a final when it heard speech) and start the next; with
 * `carry` ≥ 0, the next one starts with the kept audio from that sample on. */
static void end_utterance(const char *reason, long long carry) {
  char extra[96];
  int n = snprintf(extra, sizeof extra, ",\"reason\":\"%s\"", reason);
  if (carry >= 0) snprintf(extra + n, sizeof extra - (size_t)n, ",\"carry_from\":%.3f", carry / (double)SAMPLE_RATE);
  double c0 = cpu_seconds();
  ps_end_utt(ps);
  final_cpu_s += cpu_seconds() - c0;
  if (in_utt) emit_hyp("final", samples / (double)SAMPLE_RATE, 1, extra);
  else emit_empty_final(extra);
  in_utt = 0;
  n_shift_marks = 0; /* the ended utterance's words are reported */
  if (pending_keyterms) { apply_keyterms(pending_keyterms); free(pending_keyterms); pending_keyterms = NULL; }
  start_utterance();
  if (carry >= 0) refeed(carry);
}

/* After each searched piece: speech start, pocketsphinx's own endpoint, partials. */
static void after_piece(void) {
  uint8 speech = ps_get_in_speech(ps);
  if (speech && !in_utt) {
    in_utt = 1;
    fprintf(out, "{\"type\":\"speech_start\",\"audio_t\":%.3f}\n", fed_to / (double)SAMPLE_RATE);
    fflush(out);
  } else if (!speech && in_utt) {
    end_utterance("endpoint", -1); /* pocketsphinx's own endpoint (-vad_postspeech) */
  } else if (in_utt && fed_to - last_partial >= (long long)(partial_every_s * SAMPLE_RATE)) {
    last_partial = fed_to;
    emit_hyp("partial", samples / (double)SAMPLE_RATE, 0, NULL);
  }
}

static void feed(const int16_t *pcm, size_t n) {
  /* Feed in 10 ms pieces so endpoints and partials land on pocketsphinx's frame grid. */
  for (size_t off = 0; off < n;) {
    size_t k = n - off > 160 ? 160 : n - off;
    for (size_t i = 0; i < k; i++) carry_ring[(samples + (long long)i) % (CARRY_MAX_S * SAMPLE_RATE)] = pcm[off + i];
    samples += (long long)k;
    if (!gate_closed) {
      decode(pcm + off, k);
      after_piece();
    } else if (in_utt && samples - fed_to >= gap_endpoint) {
      /* As much non-speech skipped as pocketsphinx's own endpointer waits for: the utterance
       * ends here, as it would have had the search heard the silence. Joining the sentences
       * on both sides of a long pause into one utterance instead cost words (see 'G'). */
      end_utterance("endpoint", -1);
    }
    off += k;
  }
}

/* 'G' with a time: search the kept audio from stream sample `from` (clamped to what is kept
 * and not yet searched), then all audio as it comes. */
static void gate_open(long long from) {
  long long oldest = samples - CARRY_MAX_S * SAMPLE_RATE;
  if (from < oldest) from = oldest;
  if (from < fed_to) from = fed_to;
  if (from > samples) from = samples;
  reposition(from);
  int16_t piece[160];
  while (fed_to < samples) {
    decode(piece, kept_piece(fed_to, piece));
    after_piece();
  }
  gate_closed = 0;
}

static void settle(void) {
  double t = samples / (double)SAMPLE_RATE;
  if (!in_utt) {
    fprintf(out, "{\"type\":\"settled\",\"audio_t\":%.3f,\"in_speech\":false,\"words\":[],\"eos\":0}\n", t);
    fflush(out);
    return;
  }
  fflush(out);
  settles++;
  double c0 = cpu_seconds();
  pid_t pid = fork();
  if (pid == 0) {
    /* The copy: end the utterance (final search + lattice posteriors), report, vanish. */
    ps_end_utt(ps);
    emit_hyp("settled", t, 1, NULL);
    _exit(0);
  }
  settle_fork_cpu_s += cpu_seconds() - c0;
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    /* No copy (fork failed) or it died before reporting: the first-pass words, unscored. */
    emit_hyp("settled", t, 0, ",\"unscored\":true");
  }
}

static void serve(int fd, double partial_every) {
  /* Settling forks a copy of this decoder and waits for it (the helper ignores SIGCHLD). */
  signal(SIGCHLD, SIG_DFL);
  out = fdopen(dup(fd), "w");
  double cpu0 = cpu_seconds(), children0 = children_cpu_seconds();
  int16_t *buf = NULL;
  size_t cap = 0;
  partial_every_s = partial_every;
  gap_endpoint = (long long)cmd_ln_int32_r(config, "-vad_postspeech") * (SAMPLE_RATE / FRAME_RATE);

  start_utterance();
  cmn_start_warmup();
  for (;;) {
    unsigned char hdr[5];
    if (read_full(fd, hdr, 5) <= 0) break;
    uint32_t len = hdr[1] | hdr[2] << 8 | hdr[3] << 16 | (uint32_t)hdr[4] << 24;
    if (len > 16 * 1024 * 1024) break;
    if (len > cap) { cap = len; buf = realloc(buf, cap); }
    if (len && read_full(fd, buf, len) <= 0) break;

    switch (hdr[0]) {
    case 'A':
      feed(buf, len / 2);
      /* The ack lets the client align everything it derives on audio time. */
      fprintf(out, "{\"type\":\"ack\",\"audio_t\":%.3f,\"in_speech\":%s}\n", samples / (double)SAMPLE_RATE,
              in_utt ? "true" : "false");
      fflush(out);
      break;
    case 'F': {
      /* Received leniently: a payload that is not a time in [0, now] carries nothing. */
      long long carry = -1;
      if (len > 0 && len < 32) {
        char text[32], *end = NULL;
        memcpy(text, buf, len);
        text[len] = '\0';
        double t = strtod(text, &end);
        if (end != text && *end == '\0' && t >= 0 && t <= samples / (double)SAMPLE_RATE) carry = carry_start(t);
      }
      if (in_utt || carry >= 0) end_utterance("finalize", carry);
      else emit_empty_final(",\"reason\":\"finalize\"");
      break;
    }
    case 'G': {
      if (len == 0) { gate_closed = 1; break; }
      /* Received leniently: a payload that is not a time ≥ 0 opens with all kept audio not yet searched. */
      long long from = -1;
      if (len < 32) {
        char text[32], *end = NULL;
        memcpy(text, buf, len);
        text[len] = '\0';
        double t = strtod(text, &end);
        if (end != text && *end == '\0' && t >= 0) from = (long long)(t * FRAME_RATE + 1e-6) * (SAMPLE_RATE / FRAME_RATE);
      }
      gate_open(from < 0 ? 0 : from);
      break;
    }
    case 'P':
      settle();
      break;
    case 'C':
      set_cmn_prior((char *)buf, len, 0);
      break;
    case 'I':
      set_cmn_prior((char *)buf, len, 1);
      break;
    case 'K':
      free(pending_keyterms);
      pending_keyterms = strndup((char *)buf, len);
      if (!in_utt) { /* no speech yet in this utterance: switch the search now */
        ps_end_utt(ps);
        apply_keyterms(pending_keyterms);
        free(pending_keyterms);
        pending_keyterms = NULL;
        start_utterance();
      }
      break;
    case 'S':
      fprintf(out,
              "{\"type\":\"stats\",\"audio_s\":%.3f,\"cpu_s\":%.3f,\"private_kb\":%ld,\"pid\":%d,"
              "\"final_cpu_s\":%.3f,\"settles\":%d,\"settle_cpu_s\":%.3f,\"searched_s\":%.3f}\n",
              samples / (double)SAMPLE_RATE, cpu_seconds() - cpu0 + children_cpu_seconds() - children0, rss_kb(),
              (int)getpid(), final_cpu_s, settles, children_cpu_seconds() - children0 + settle_fork_cpu_s,
              searched_seconds());
      fflush(out);
      break;
    default:
      break;
    }
  }
  if (in_utt) end_utterance("close", -1);
  fclose(out);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s <socket> <hmm-dir> <lm.bin> <dict> [partial-interval-s [-pocketsphinx-arg value]...]\n", argv[0]);
    return 2;
  }
  const char *sock_path = argv[1];
  lm_path = argv[3];
  double partial_every = argc > 5 ? atof(argv[5]) : 0.2;
  double t0 = cpu_seconds();
  /* Fixed arguments, then any extra pocketsphinx "-name value" pairs from argv[6...]. */
  int n = 0;
  char **args = calloc((size_t)argc + 8, sizeof *args);
  const char *fixed[] = {"-hmm", argv[2], "-lm", argv[3], "-dict", argv[4], "-logfn", "/dev/null"};
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) args[n++] = (char *)fixed[i];
  for (int i = 6; i < argc; i++) args[n++] = argv[i];
  config = cmd_ln_parse_r(NULL, ps_args(), n, args, TRUE);
  if (!config || !(ps = ps_init(config))) {
    printf("{\"type\":\"error\",\"message\":\"pocketsphinx failed to load the model\"}\n");
    return 1;
  }
  main_lm = ps_get_lm(ps, "_default");
  if (!main_lm) {
    printf("{\"type\":\"error\",\"message\":\"no n-gram search in the model\"}\n");
    return 1;
  }

  int ls = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path);
  unlink(sock_path);
  if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 64) < 0) {
    printf("{\"type\":\"error\",\"message\":\"cannot listen on %s: %s\"}\n", sock_path, strerror(errno));
    return 1;
  }
  signal(SIGCHLD, SIG_IGN); /* children are reaped automatically */
  signal(SIGPIPE, SIG_IGN);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"type\":\"ready\",\"load_cpu_s\":%.3f,\"max_rss_kb\":%ld}\n", cpu_seconds() - t0, ru.ru_maxrss);
  fflush(stdout);

  struct pollfd fds[2] = {{.fd = ls, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) { if (errno == EINTR) continue; break; }
    if (fds[1].revents) {
      char b[256];
      if (read(0, b, sizeof b) <= 0) break; /* parent gone */
    }
    if (fds[0].revents & POLLIN) {
      int c = accept(ls, NULL, NULL);
      if (c < 0) continue;
      pid_t pid = fork();
      if (pid == 0) {
        close(ls);
        close(0);
        serve(c, partial_every);
        _exit(0);
      }
      close(c);
    }
  }
  unlink(sock_path);
  return 0;
}
