package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Rules holds every threshold and switch detection uses. Each threshold is
// documented, with the source of its default, by the table in fields; the
// rules file format (see ParseRules) names them by the same keys.
type Rules struct {
	// Per-stream rules on the latest CallDiagnostics aggregates.
	JitterAvgMs         float64
	PacketLossAvg       float64
	RTTAvgMs            float64
	JitterBufferAvgMs   float64
	HealedRatioAvg      float64
	VideoFPSMin         float64
	VideoFreezeMsPerMin float64
	VideoHeightMin      float64
	ShareFPSMin         float64
	ShareFreezeMsPerMin float64
	ShareHeightMin      float64

	// Survey buckets on a 5-point scale.
	RatingGoodMin    float64
	RatingAverageMin float64

	// Time-series intervals: enter after EnterPoints consecutive points
	// past the threshold, leave after ReleasePoints consecutive points
	// at or below the release level.
	SeriesJitterMs        float64
	SeriesJitterReleaseMs float64
	SeriesRTTMs           float64
	SeriesRTTReleaseMs    float64
	SeriesLoss            float64
	SeriesLossRelease     float64
	EnterPoints           float64
	ReleasePoints         float64
	// SeriesGapFactor: a gap between points longer than this many times
	// the series' usual step is reported as missing telemetry.
	SeriesGapFactor float64

	// SetupMaxSeconds: a leg shorter than this that ends with a failure
	// code never got connected.
	SetupMaxSeconds float64
	// AttributionShare: the share of receivers (or senders) that must see
	// the problem before it is blamed on one side.
	AttributionShare float64
	// RelatedGapSeconds: issues of one participant this close in time are
	// linked as one story.
	RelatedGapSeconds float64
	// PadSeconds widens each issue's timeline filter on both sides.
	PadSeconds float64

	// WebRTC peer connections (browser telemetry).
	// ConnectTimeoutSeconds: a peer connection that started ICE checks,
	// never connected and was not closed has failed once its checks went
	// on this long.
	ConnectTimeoutSeconds float64
	// ConnectSetupMaxSeconds: a connection whose first connect took longer
	// than this from its creation was slow to set up.
	ConnectSetupMaxSeconds float64
	// NoMediaSeconds: a connected peer connection is judged for media flow
	// once it stayed connected this long.
	NoMediaSeconds float64
	// QualityLimitedShare and QualityLimitedSeconds: an outgoing video
	// stream whose encoder was limited by bandwidth or CPU for at least
	// this share of its life, or this many seconds, was quality-limited.
	QualityLimitedShare   float64
	QualityLimitedSeconds float64

	// Disabled lists kinds that are switched off.
	Disabled []string
}

// field describes one numeric rule: its key in the rules file, where its
// default comes from, and how to reach it.
type field struct {
	key    string
	doc    string
	source string
	ptr    func(*Rules) *float64
	// min and max bound accepted values (inclusive).
	min, max float64
}

const (
	srcACS        = "ACS Call Diagnostics rule (quality-thresholds.md section 2)"
	srcKQL        = "ACS Call Diagnostics query (quality-thresholds.md section 3)"
	srcLocal      = "calldiag default"
	srcSeriesRule = "calldiag default, applying the ACS stream threshold to each sample"
	srcICE        = "calldiag default, about the time browsers give ICE checks before they report failed"
)

func fields() []field {
	inf := 1e12
	return []field{
		{"stream.jitter.avg_ms", "a stream is poor when its average jitter (ms) is above this", srcACS, func(r *Rules) *float64 { return &r.JitterAvgMs }, 0, inf},
		{"stream.packet_loss.avg", "a stream is poor when its average packet loss (fraction) is above this", srcACS, func(r *Rules) *float64 { return &r.PacketLossAvg }, 0, 1},
		{"stream.rtt.avg_ms", "a stream is poor when its average round trip (ms) is above this", srcACS, func(r *Rules) *float64 { return &r.RTTAvgMs }, 0, inf},
		{"stream.jitter_buffer.avg_ms", "a stream is poor when its average jitter buffer (ms) is above this", srcACS, func(r *Rules) *float64 { return &r.JitterBufferAvgMs }, 0, inf},
		{"stream.healed_ratio.avg", "received audio is poorly concealed when the healed share is above this", srcACS, func(r *Rules) *float64 { return &r.HealedRatioAvg }, 0, 1},
		{"video.frame_rate.min", "received video is poor below this frame rate (fps)", srcACS, func(r *Rules) *float64 { return &r.VideoFPSMin }, 0, inf},
		{"video.freeze.ms_per_min", "received video is poor when frozen longer than this (ms per minute)", srcACS, func(r *Rules) *float64 { return &r.VideoFreezeMsPerMin }, 0, 60000},
		{"video.height.min", "received video is poor below this height (pixels)", srcACS, func(r *Rules) *float64 { return &r.VideoHeightMin }, 0, inf},
		{"screenshare.frame_rate.min", "a shared screen is poor below this frame rate (fps)", srcACS, func(r *Rules) *float64 { return &r.ShareFPSMin }, 0, inf},
		{"screenshare.freeze.ms_per_min", "a shared screen is poor when frozen longer than this (ms per minute)", srcACS, func(r *Rules) *float64 { return &r.ShareFreezeMsPerMin }, 0, 60000},
		{"screenshare.height.min", "a shared screen is poor below this height (pixels)", srcACS, func(r *Rules) *float64 { return &r.ShareHeightMin }, 0, inf},
		{"survey.good.min", "a rating (scaled to 5) at or above this is Good", srcKQL, func(r *Rules) *float64 { return &r.RatingGoodMin }, 0, 5},
		{"survey.average.min", "a rating (scaled to 5) at or above this is Average, below it Poor", srcKQL, func(r *Rules) *float64 { return &r.RatingAverageMin }, 0, 5},
		{"series.jitter_ms.enter", "a jitter sample (ms) above this counts towards a poor interval", srcSeriesRule, func(r *Rules) *float64 { return &r.SeriesJitterMs }, 0, inf},
		{"series.jitter_ms.release", "a jitter sample (ms) at or below this counts towards leaving it", srcLocal, func(r *Rules) *float64 { return &r.SeriesJitterReleaseMs }, 0, inf},
		{"series.rtt_ms.enter", "a round-trip sample (ms) above this counts towards a poor interval", srcSeriesRule, func(r *Rules) *float64 { return &r.SeriesRTTMs }, 0, inf},
		{"series.rtt_ms.release", "a round-trip sample (ms) at or below this counts towards leaving it", srcLocal, func(r *Rules) *float64 { return &r.SeriesRTTReleaseMs }, 0, inf},
		{"series.packet_loss.enter", "a loss sample (lost/sent) above this counts towards a poor interval", srcSeriesRule, func(r *Rules) *float64 { return &r.SeriesLoss }, 0, 1},
		{"series.packet_loss.release", "a loss sample at or below this counts towards leaving it", srcLocal, func(r *Rules) *float64 { return &r.SeriesLossRelease }, 0, 1},
		{"series.enter_points", "consecutive samples past a threshold that open an interval", srcLocal, func(r *Rules) *float64 { return &r.EnterPoints }, 1, 1000},
		{"series.release_points", "consecutive samples at or below the release level that close it", srcLocal, func(r *Rules) *float64 { return &r.ReleasePoints }, 1, 1000},
		{"series.gap_factor", "a pause longer than this many sampling intervals is a gap in the telemetry", srcLocal, func(r *Rules) *float64 { return &r.SeriesGapFactor }, 1, 1000},
		{"setup.max_leg_s", "a leg shorter than this (s) ending with a failure never connected", srcLocal, func(r *Rules) *float64 { return &r.SetupMaxSeconds }, 0, inf},
		{"attribution.share", "share of receivers (or senders) that must see poor media to blame one side", srcLocal, func(r *Rules) *float64 { return &r.AttributionShare }, 0, 1},
		{"related.gap_s", "issues of one endpoint this close (s) belong to one story", srcLocal, func(r *Rules) *float64 { return &r.RelatedGapSeconds }, 0, inf},
		{"timeline.pad_s", "seconds added on each side of an issue's timeline filter", srcLocal, func(r *Rules) *float64 { return &r.PadSeconds }, 0, inf},
		{"webrtc.connect_timeout_s", "a WebRTC connection that began ICE checks and neither connected nor closed within this (s) failed", srcICE, func(r *Rules) *float64 { return &r.ConnectTimeoutSeconds }, 1, inf},
		{"webrtc.setup.max_s", "a WebRTC connection taking longer than this (s) from creation to connected was slow to set up", srcLocal, func(r *Rules) *float64 { return &r.ConnectSetupMaxSeconds }, 0, inf},
		{"webrtc.no_media.min_s", "a WebRTC connection connected this long (s) without RTP in a direction it negotiated carried no media", srcLocal, func(r *Rules) *float64 { return &r.NoMediaSeconds }, 0, inf},
		{"webrtc.quality_limited.share", "outgoing video limited by bandwidth or CPU for at least this share of the stream's life is quality-limited", srcLocal, func(r *Rules) *float64 { return &r.QualityLimitedShare }, 0, 1},
		{"webrtc.quality_limited.min_s", "outgoing video limited by bandwidth or CPU for at least this many seconds in all is quality-limited, whatever the share", srcLocal, func(r *Rules) *float64 { return &r.QualityLimitedSeconds }, 0, inf},
	}
}

// DefaultRules returns the built-in rules: the ACS Call Diagnostics
// thresholds where ACS has one, calldiag's own choices elsewhere.
func DefaultRules() Rules {
	return Rules{
		JitterAvgMs:         30,
		PacketLossAvg:       0.1,
		RTTAvgMs:            500,
		JitterBufferAvgMs:   200,
		HealedRatioAvg:      0.1,
		VideoFPSMin:         7,
		VideoFreezeMsPerMin: 6000,
		VideoHeightMin:      240,
		ShareFPSMin:         1,
		ShareFreezeMsPerMin: 25000,
		ShareHeightMin:      768,

		RatingGoodMin:    4.5,
		RatingAverageMin: 3,

		SeriesJitterMs:        30,
		SeriesJitterReleaseMs: 25,
		SeriesRTTMs:           500,
		SeriesRTTReleaseMs:    400,
		SeriesLoss:            0.1,
		SeriesLossRelease:     0.05,
		EnterPoints:           2,
		ReleasePoints:         2,
		SeriesGapFactor:       3,

		SetupMaxSeconds:   5,
		AttributionShare:  0.5,
		RelatedGapSeconds: 60,
		PadSeconds:        10,

		ConnectTimeoutSeconds:  30,
		ConnectSetupMaxSeconds: 5,
		NoMediaSeconds:         10,
		QualityLimitedShare:    0.2,
		QualityLimitedSeconds:  30,
	}
}

// enabled reports whether kind is switched on.
func (r Rules) enabled(kind string) bool {
	return !slices.Contains(r.Disabled, kind)
}

// ParseRules reads a rules file. Each line is blank, a comment starting
// with #, `KEY = NUMBER` setting one threshold, or `disable = KIND`
// switching one issue kind off. Keys not set keep their defaults. Every
// problem is reported at once, each as "name:line: message".
func ParseRules(name string, data []byte) (Rules, error) {
	r := DefaultRules()
	byKey := map[string]field{}
	for _, f := range fields() {
		byKey[f.key] = f
	}
	seen := map[string]int{}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...)))
	}
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		text := raw
		if j := strings.IndexByte(text, '#'); j >= 0 {
			text = text[:j]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		key, val, ok := strings.Cut(text, "=")
		if !ok {
			bad(line, "expected KEY = VALUE, got %q", text)
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if key == "disable" {
			if !knownKind(val) {
				bad(line, "disable: unknown issue kind %q", val)
				continue
			}
			if !slices.Contains(r.Disabled, val) {
				r.Disabled = append(r.Disabled, val)
			}
			continue
		}
		f, ok := byKey[key]
		if !ok {
			bad(line, "unknown key %q", key)
			continue
		}
		if prev, dup := seen[key]; dup {
			bad(line, "%s already set on line %d", key, prev)
			continue
		}
		seen[key] = line
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || v != v {
			bad(line, "%s: %q is not a number", key, val)
			continue
		}
		if v < f.min || v > f.max {
			bad(line, "%s: %v is outside %v..%v", key, v, f.min, f.max)
			continue
		}
		*f.ptr(&r) = v
	}
	check := func(enter, release string, e, rel float64) {
		if rel > e {
			line := seen[release]
			if line == 0 {
				line = seen[enter]
			}
			bad(line, "%s (%v) must not exceed %s (%v)", release, rel, enter, e)
		}
	}
	check("series.jitter_ms.enter", "series.jitter_ms.release", r.SeriesJitterMs, r.SeriesJitterReleaseMs)
	check("series.rtt_ms.enter", "series.rtt_ms.release", r.SeriesRTTMs, r.SeriesRTTReleaseMs)
	check("series.packet_loss.enter", "series.packet_loss.release", r.SeriesLoss, r.SeriesLossRelease)
	if r.RatingAverageMin > r.RatingGoodMin {
		line := seen["survey.average.min"]
		if line == 0 {
			line = seen["survey.good.min"]
		}
		bad(line, "survey.average.min (%v) must not exceed survey.good.min (%v)", r.RatingAverageMin, r.RatingGoodMin)
	}
	slices.Sort(r.Disabled)
	if len(errs) > 0 {
		return DefaultRules(), errors.Join(errs...)
	}
	return r, nil
}

// Format writes the rules in force in the rules file format, each with a
// comment naming the source of its default; ParseRules reads it back to
// the same Rules.
func (r Rules) Format() string {
	var b strings.Builder
	b.WriteString("# calldiag detection rules\n")
	for _, f := range fields() {
		fmt.Fprintf(&b, "\n# %s (default from: %s)\n%s = %s\n", f.doc, f.source, f.key,
			strconv.FormatFloat(*f.ptr(&r), 'g', -1, 64))
	}
	d := slices.Clone(r.Disabled)
	slices.Sort(d)
	if len(d) > 0 {
		b.WriteString("\n# switched-off issue kinds\n")
	}
	for _, k := range slices.Compact(d) {
		fmt.Fprintf(&b, "disable = %s\n", k)
	}
	return b.String()
}

// Version names the detection logic. Change it whenever a change to this
// package can change the issues found for the same input, so that stored
// detections made by an older build are recognised and made again.
const Version = "2026-11-27.2"

// Fingerprint identifies the detection a set of rules gives with this
// build: equal fingerprints mean equal results for equal input.
func (r Rules) Fingerprint() string {
	h := sha256.Sum256([]byte(Version + "\n" + r.Format()))
	return hex.EncodeToString(h[:8])
}
