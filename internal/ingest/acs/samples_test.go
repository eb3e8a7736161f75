package acs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"calldiag/internal/ingest"
	"calldiag/internal/model"
)

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }
func bp(v bool) *bool       { return &v }

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// Resources of the published samples, normalized by hand.
const (
	resTests   = "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/resourcegroups/acs-test-rg/providers/microsoft.communication/communicationservices/acs-prod-ccts-tests"
	resSurvey  = "/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/resourcegroups/acs-datalytics-spgw-rg/providers/microsoft.communication/communicationservices/acs-datalytics-alltelemetry"
	resMetrics = "/subscriptions/50ad1522-5c2c-4d9a-a6c8-67c11ecb75b8/resourcegroups/calling-sample-apps/providers/microsoft.communication/communicationservices/corertc-test-apps"
)

// Call ids and times that several samples share.
const (
	p2pCall    = "aaaa0000-bb11-2222-33cc-444444dddddd"
	groupCall  = "bbbb1111-cc22-3333-44dd-555555eeeeee"
	p2pTime    = "2021-07-19T18:46:50.188Z"
	groupTime  = "2021-07-05T06:30:06.402Z"
	idUser1    = "acs:61fddbe3-0003-4066-97bc-6aaf143bbb84_0000000b-4fee-66cf-ac00-343a0d003158"
	idUser2    = "acs:7af14122-9ac7-4b81-80a8-4bf3582b42d0_06f9276d-8efe-4bdd-8c22-ebc5434903f0"
	idGroup1   = "acs:1797dbb3-f982-47b0-b98e-6a76084454f1_0000000b-1531-729f-ac00-343a0d00d975"
	idGroup3   = "acs:1797dbb3-f982-47b0-b98e-6a76084454f1_0000000b-1531-57c6-ac00-343a0d00d972"
	epUser1    = "570ea078-74e9-4430-9c67-464ba1fa5859"
	epUser2    = "a5bd82f9-ac38-4f4a-a0fa-bb3467cdcc64"
	epGroup1   = "5ebd55df-ffff-ffff-89e6-4f3f0453b1a6"
	epGroup3   = "5ebd55df-ffff-ffff-ab89-19ff584890b7"
	pidGroup1  = "04cc26f5-a86d-481c-b9f9-7a40be4d6fba"
	pidGroup3  = "1a9cb3d1-7898-4063-b3d2-26c1630ecf03"
	threadA    = "19:meeting_MjZiOTAyN2YtZWU1Yi00ZTZiLT77777OOOOO99999jgxOTkw@thread.v2"
	crossIdent = "1e4c59e1-r1rr-49bc-893d-990dsds8f9f5"
	crossTen   = "02cbdb3c-155a-4b95-b829-6d56a45787ca"
	crossEp    = "02cbdb3c-155a-4d98-b829-aaaaa61d44ea"
)

func summary(call, at string, p model.ParticipantRow) model.Record {
	return model.Record{Category: model.CatCallSummary, RawCategory: "CallSummary", Resource: resTests,
		CallID: call, Time: ts(at), Known: true, Participant: &p}
}

func diagnostics(call, at string, s model.StreamRow) model.Record {
	return model.Record{Category: model.CatCallDiagnostics, RawCategory: "CallDiagnostics", Resource: resTests,
		CallID: call, Time: ts(at), Known: true, Stream: &s}
}

// asUpdate turns an expected summary or diagnostics record into the one the
// *Updates page publishes: the same properties plus callupdatesversion "2",
// still under the base category name.
func asUpdate(r model.Record) model.Record {
	if r.Participant != nil {
		p := *r.Participant
		p.Version = ip(2)
		r.Participant, r.Category = &p, model.CatCallSummaryUpdates
	}
	if r.Stream != nil {
		s := *r.Stream
		s.Version = ip(2)
		r.Stream, r.Category = &s, model.CatCallDiagnosticsUpdates
	}
	return r
}

func survey(at, call string, s model.Survey) model.Record {
	return model.Record{Category: model.CatCallSurvey, RawCategory: "CallSurvey", Resource: resSurvey,
		CallID: call, Time: ts(at), Known: true, Survey: &s}
}

func rating(score, lo, hi, thr float64) model.Rating {
	return model.Rating{Score: fp(score), LowerBound: fp(lo), UpperBound: fp(hi), Threshold: fp(thr)}
}

type publishedCase struct {
	name string
	// parts are fragment files under testdata/published, combined in order.
	parts []string
	// envelope is JSON members the test adds to the record, for samples
	// copied from the portal grid without a category column.
	envelope string
	// want is the record each object stands for, transcribed by hand from
	// the published text. ID and Raw are checked separately.
	want []model.Record
}

var summaryP2P = []string{"CallSummary/p2p-shared-envelope", "CallSummary/p2p-operation-category"}
var summaryGroup = []string{"CallSummary/group-shared-envelope", "CallSummary/group-operation-category"}
var diagP2P = []string{"CallDiagnostics/p2p-shared-envelope", "CallDiagnostics/p2p-operation-category"}
var diagGroup = []string{"CallDiagnostics/group-shared-envelope", "CallDiagnostics/group-operation-category"}

func with(base []string, more ...string) []string { return append(slices.Clone(base), more...) }

// updatesOf rewrites fragment paths of one page into the *Updates page's.
func updatesOf(parts []string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		dir, file, _ := strings.Cut(p, "/")
		out[i] = dir + "Updates/" + file
	}
	return out
}

var (
	sumP2PUser1 = summary(p2pCall, p2pTime, model.ParticipantRow{
		ParticipantID: epUser1, EndpointID: epUser1, Identifier: idUser1,
		EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP", SDKVersion: "1.0.1.0", OSVersion: "Windows 10.0.17763 Arch: x64",
		CallStartTime: ts("2021-07-19T17:54:05.113Z"), CallDuration: fp(6), CallType: model.CallTypeP2P,
		StartTime: ts("2021-07-19T17:54:06.758Z"), Duration: fp(5), EndReason: ip(0),
	})
	sumP2PUser2 = summary(p2pCall, p2pTime, model.ParticipantRow{
		ParticipantID: epUser2, EndpointID: epUser2, Identifier: idUser2,
		EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP", SDKVersion: "1.1.0.0",
		CallStartTime: ts("2021-07-19T17:54:05.335Z"), CallDuration: fp(6), CallType: model.CallTypeP2P,
		StartTime: ts("2021-07-19T17:54:06.335Z"), Duration: fp(5), EndReason: ip(0),
	})
	sumP2PCross = summary(p2pCall, p2pTime, model.ParticipantRow{
		ParticipantID: crossEp, EndpointID: crossEp, Identifier: crossIdent,
		EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP", SDKVersion: "Redacted", OSVersion: "Redacted",
		CallStartTime: ts("2022-08-14T06:18:27.010Z"), CallDuration: fp(520), CallType: model.CallTypeP2P,
		StartTime: ts("2022-08-14T06:18:27.010Z"), Duration: fp(520), EndReason: ip(0), TenantID: crossTen,
	})
	// The participantId is published with a leading space.
	sumPSTN = summary(p2pCall, p2pTime, model.ParticipantRow{
		ParticipantID: "b25cf111-73df-4e0a-a888-640000abe34d", RawParticipantID: "b25cf111-73df-4e0a-a888-640000abe34d",
		EndpointID: "8731d003-6c1e-4808-8159-effff000aaa2", Identifier: "b1999c3e-bbbb-4650-9b23-9999bdabab47",
		EndpointType: model.EndpointPSTN, RawEndpointType: "PSTN", SDKVersion: "Redacted", OSVersion: "Redacted",
		CallStartTime: ts("2022-08-07T13:53:12Z"), CallDuration: fp(1470), CallType: model.CallTypeGroup,
		TeamsThreadID: "19:36ec5177126fff000aaa521670c804a3@thread.v2",
		StartTime:     ts("2022-08-07T13:56:45Z"), Duration: fp(960), EndReason: ip(0),
	})
	sumGroup1 = summary(groupCall, groupTime, model.ParticipantRow{
		ParticipantID: pidGroup1, RawParticipantID: pidGroup1, EndpointID: epGroup1, Identifier: idGroup1,
		EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP", SDKVersion: "1.0.0.3",
		OSVersion:     "Darwin Kernel Version 18.7.0: Mon Nov 9 15:07:15 PST 2020; root:xnu-4903.272.3~3/RELEASE_ARM64_S5L8960X",
		CallStartTime: ts("2021-07-05T06:16:40.240Z"), CallDuration: fp(87), CallType: model.CallTypeGroup, TeamsThreadID: threadA,
		StartTime: ts("2021-07-05T06:16:44.235Z"), Duration: fp(82), EndReason: ip(0),
	})
	sumGroup3 = summary(groupCall, groupTime, model.ParticipantRow{
		ParticipantID: pidGroup3, RawParticipantID: pidGroup3, EndpointID: epGroup3, Identifier: idGroup3,
		EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP", SDKVersion: "1.0.0.3",
		OSVersion:     "Android 11.0; Manufacturer: Google; Product: redfin; Model: Pixel 5; Hardware: redfin",
		CallStartTime: ts("2021-07-05T06:16:40.240Z"), CallDuration: fp(87), CallType: model.CallTypeGroup,
		TeamsThreadID: "19:meeting_MjZiOTAyN2YtZWU1Yi00ZTZiLTk2ZDUtYTZlM2I2ZjgxOTkw@thread.v2",
		StartTime:     ts("2021-07-05T06:16:40.240Z"), Duration: fp(87), EndReason: ip(0),
	})
	sumGroupPSTN = summary(groupCall, groupTime, model.ParticipantRow{
		ParticipantID: "515650f7-8204-4079-ac9d-d8f4bf07b04c", RawParticipantID: "515650f7-8204-4079-ac9d-d8f4bf07b04c",
		EndpointID: "46387150-692a-47be-8c9d-1237efe6c48b", EndpointType: model.EndpointPSTN, RawEndpointType: "PSTN",
		CallStartTime: ts("2021-07-05T06:16:40.240Z"), CallDuration: fp(87), CallType: model.CallTypeGroup, TeamsThreadID: threadA,
		StartTime: ts("2021-07-05T06:17:10.447Z"), Duration: fp(52), EndReason: ip(0),
	})
	sumGroupCross = summary(groupCall, groupTime, model.ParticipantRow{
		ParticipantID: "aa1dd7da-5922-4bb1-a4fa-e350a111fd9c", RawParticipantID: "aa1dd7da-5922-4bb1-a4fa-e350a111fd9c",
		EndpointID: crossEp, Identifier: crossIdent, TenantID: crossTen,
		EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP", SDKVersion: "Redacted", OSVersion: "Redacted",
		CallStartTime: ts("2022-08-14T06:18:27.010Z"), CallDuration: fp(912), CallType: model.CallTypeGroup, TeamsThreadID: threadA,
		StartTime: ts("2022-08-14T06:18:27.010Z"), Duration: fp(902), EndReason: ip(0),
	})
	sumGroupBot = summary(groupCall, groupTime, model.ParticipantRow{
		ParticipantID: "66e9d9a7-a434-4663-d91d-fb1ea73ff31e", RawParticipantID: "66e9d9a7-a434-4663-d91d-fb1ea73ff31e",
		EndpointID: "69680ec2-5ac0-4a3c-9574-eaaa77720b82", Identifier: "b1902c3e-b9f7-4650-9b23-9999bdabab47",
		EndpointType: model.EndpointBot, RawEndpointType: "Bot", SDKVersion: "Redacted", OSVersion: "Redacted",
		CallStartTime: ts("2022-08-09T16:00:32Z"), CallDuration: fp(1470), CallType: model.CallTypeGroup,
		TeamsThreadID: "19:meeting_MmQwZDcwYTQtZ000HWE6NzI4LTg1YTAtNXXXXX99999ZZZZZ@thread.v2",
		StartTime:     ts("2022-08-09T16:14:18Z"), Duration: fp(644), EndReason: ip(0),
	})

	diaP2PAudio1 = diagnostics(p2pCall, p2pTime, model.StreamRow{
		ParticipantID: epUser1, EndpointID: epUser1, Identifier: idUser1, EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP",
		MediaType: model.MediaAudio, RawMediaType: "Audio", ACSStreamID: "1000", Direction: model.DirOutbound, TransportType: "UDP",
		RoundTripTimeAvgMs: fp(82), RoundTripTimeMaxMs: fp(88), JitterAvgMs: fp(1), JitterMaxMs: fp(1),
		PacketLossRateAvg: fp(0), PacketLossRateMax: fp(0),
	})
	diaP2PAudio2 = diagnostics(p2pCall, p2pTime, model.StreamRow{
		ParticipantID: epUser2, EndpointID: epUser2, Identifier: idUser2, EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP",
		MediaType: model.MediaAudio, RawMediaType: "Audio", ACSStreamID: "1363841599", Direction: model.DirOutbound, TransportType: "UDP",
		RoundTripTimeAvgMs: fp(78), RoundTripTimeMaxMs: fp(84), JitterAvgMs: fp(1), JitterMaxMs: fp(1),
		PacketLossRateAvg: fp(0), PacketLossRateMax: fp(0),
	})
	diaP2PVideo1 = diagnostics(p2pCall, p2pTime, model.StreamRow{
		ParticipantID: epUser1, EndpointID: epUser1, Identifier: idUser1, EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP",
		MediaType: model.MediaVideo, RawMediaType: "Video", ACSStreamID: "2804", Direction: model.DirOutbound, TransportType: "UDP",
		RoundTripTimeAvgMs: fp(103), RoundTripTimeMaxMs: fp(143), JitterAvgMs: fp(0), JitterMaxMs: fp(4),
		PacketLossRateAvg: fp(0.00003146336), PacketLossRateMax: fp(0.001769911),
	})
	diaGroup1Up = diagnostics(groupCall, groupTime, model.StreamRow{
		ParticipantID: pidGroup1, RawParticipantID: pidGroup1, EndpointID: epGroup1, Identifier: idGroup1,
		EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP",
		MediaType: model.MediaAudio, RawMediaType: "Audio", ACSStreamID: "14884", Direction: model.DirOutbound, TransportType: "UDP",
		RoundTripTimeAvgMs: fp(46), RoundTripTimeMaxMs: fp(48), JitterAvgMs: fp(0), JitterMaxMs: fp(1),
		PacketLossRateAvg: fp(0), PacketLossRateMax: fp(0),
	})
	// Server rows: the server's stream to a client, keyed by that client's
	// participantId and inbound for it.
	diaGroup1Down = diagnostics(groupCall, groupTime, model.StreamRow{
		ParticipantID: pidGroup1, RawParticipantID: pidGroup1, EndpointType: model.EndpointServer, RawEndpointType: "Server",
		MediaType: model.MediaAudio, RawMediaType: "Audio", ACSStreamID: "2001", Direction: model.DirInbound, TransportType: "UDP",
		RoundTripTimeAvgMs: fp(42), RoundTripTimeMaxMs: fp(44), JitterAvgMs: fp(1), JitterMaxMs: fp(1),
		PacketLossRateAvg: fp(0), PacketLossRateMax: fp(0),
	})
	diaGroup3Up = diagnostics(groupCall, groupTime, model.StreamRow{
		ParticipantID: pidGroup3, RawParticipantID: pidGroup3, EndpointID: epGroup3, Identifier: idGroup3,
		EndpointType: model.EndpointVoIP, RawEndpointType: "VoIP",
		MediaType: model.MediaAudio, RawMediaType: "Audio", ACSStreamID: "13783", Direction: model.DirOutbound, TransportType: "UDP",
		RoundTripTimeAvgMs: fp(45), RoundTripTimeMaxMs: fp(46), JitterAvgMs: fp(1), JitterMaxMs: fp(2),
		PacketLossRateAvg: fp(0), PacketLossRateMax: fp(0),
	})
	// Published truncated after packetLossRateAvg.
	diaGroup3Down = diagnostics(groupCall, groupTime, model.StreamRow{
		ParticipantID: pidGroup3, RawParticipantID: pidGroup3, EndpointType: model.EndpointServer, RawEndpointType: "Server",
		MediaType: model.MediaAudio, RawMediaType: "Audio", ACSStreamID: "1000", Direction: model.DirInbound, TransportType: "UDP",
		RoundTripTimeAvgMs: fp(45), RoundTripTimeMaxMs: fp(46), JitterAvgMs: fp(1), JitterMaxMs: fp(4),
		PacketLossRateAvg: fp(0),
	})
)

var publishedCases = []publishedCase{
	{name: "summary/p2p-voip-user-1", parts: with(summaryP2P, "CallSummary/p2p-voip-user-1"), want: []model.Record{sumP2PUser1}},
	{name: "summary/p2p-voip-user-2", parts: with(summaryP2P, "CallSummary/p2p-voip-user-2"), want: []model.Record{sumP2PUser2}},
	{name: "summary/p2p-cross-tenant", parts: with(summaryP2P, "CallSummary/p2p-cross-tenant-voip-user-1"), want: []model.Record{sumP2PCross}},
	{name: "summary/pstn-call", parts: with(summaryP2P, "CallSummary/pstn-call"), want: []model.Record{sumPSTN}},
	{name: "summary/group-voip-1", parts: with(summaryGroup, "CallSummary/group-voip-endpoint-1"), want: []model.Record{sumGroup1}},
	{name: "summary/group-voip-3", parts: with(summaryGroup, "CallSummary/group-voip-endpoint-3"), want: []model.Record{sumGroup3}},
	{name: "summary/group-pstn-2", parts: with(summaryGroup, "CallSummary/group-pstn-endpoint-2"), want: []model.Record{sumGroupPSTN}},
	{name: "summary/group-cross-tenant", parts: with(summaryGroup, "CallSummary/group-cross-tenant"), want: []model.Record{sumGroupCross}},
	{name: "summary/group-cross-tenant-bot", parts: with(summaryGroup, "CallSummary/group-cross-tenant-bot"), want: []model.Record{sumGroupBot}},

	{name: "summary-updates/p2p-voip-user-1", parts: updatesOf(with(summaryP2P, "CallSummary/p2p-voip-user-1")), want: []model.Record{asUpdate(sumP2PUser1)}},
	{name: "summary-updates/p2p-voip-user-2", parts: updatesOf(with(summaryP2P, "CallSummary/p2p-voip-user-2")), want: []model.Record{asUpdate(sumP2PUser2)}},
	{name: "summary-updates/p2p-cross-tenant", parts: updatesOf(with(summaryP2P, "CallSummary/p2p-cross-tenant-voip-user-1")), want: []model.Record{asUpdate(sumP2PCross)}},
	{name: "summary-updates/pstn-call", parts: updatesOf(with(summaryP2P, "CallSummary/pstn-call")), want: []model.Record{asUpdate(sumPSTN)}},
	{name: "summary-updates/group-voip-1", parts: updatesOf(with(summaryGroup, "CallSummary/group-voip-endpoint-1")), want: []model.Record{asUpdate(sumGroup1)}},
	{name: "summary-updates/group-voip-3", parts: updatesOf(with(summaryGroup, "CallSummary/group-voip-endpoint-3")), want: []model.Record{asUpdate(sumGroup3)}},
	{name: "summary-updates/group-pstn-2", parts: updatesOf(with(summaryGroup, "CallSummary/group-pstn-endpoint-2")), want: []model.Record{asUpdate(sumGroupPSTN)}},
	{name: "summary-updates/group-cross-tenant", parts: updatesOf(with(summaryGroup, "CallSummary/group-cross-tenant")), want: []model.Record{asUpdate(sumGroupCross)}},
	{name: "summary-updates/group-cross-tenant-bot", parts: updatesOf(with(summaryGroup, "CallSummary/group-cross-tenant-bot")), want: []model.Record{asUpdate(sumGroupBot)}},

	{name: "diagnostics/p2p-audio-1-to-2", parts: with(diagP2P, "CallDiagnostics/p2p-audio-voip1-to-voip2"), want: []model.Record{diaP2PAudio1}},
	{name: "diagnostics/p2p-audio-2-to-1", parts: with(diagP2P, "CallDiagnostics/p2p-audio-voip2-to-voip1"), want: []model.Record{diaP2PAudio2}},
	{name: "diagnostics/p2p-video-1-to-2", parts: with(diagP2P, "CallDiagnostics/p2p-video-voip1-to-voip2"), want: []model.Record{diaP2PVideo1}},
	{name: "diagnostics/group-audio-1-to-server", parts: with(diagGroup, "CallDiagnostics/group-audio-voip1-to-server"), want: []model.Record{diaGroup1Up}},
	{name: "diagnostics/group-audio-server-to-1", parts: with(diagGroup, "CallDiagnostics/group-audio-server-to-voip1"), want: []model.Record{diaGroup1Down}},
	{name: "diagnostics/group-audio-3-to-server", parts: with(diagGroup, "CallDiagnostics/group-audio-voip3-to-server"), want: []model.Record{diaGroup3Up}},
	{name: "diagnostics/group-audio-server-to-3", parts: with(diagGroup, "CallDiagnostics/group-audio-server-to-voip3"), want: []model.Record{diaGroup3Down}},

	{name: "diagnostics-updates/p2p-audio-1-to-2", parts: updatesOf(with(diagP2P, "CallDiagnostics/p2p-audio-voip1-to-voip2")), want: []model.Record{asUpdate(diaP2PAudio1)}},
	{name: "diagnostics-updates/p2p-audio-2-to-1", parts: updatesOf(with(diagP2P, "CallDiagnostics/p2p-audio-voip2-to-voip1")), want: []model.Record{asUpdate(diaP2PAudio2)}},
	{name: "diagnostics-updates/p2p-video-1-to-2", parts: updatesOf(with(diagP2P, "CallDiagnostics/p2p-video-voip1-to-voip2")), want: []model.Record{asUpdate(diaP2PVideo1)}},
	{name: "diagnostics-updates/group-audio-1-to-server", parts: updatesOf(with(diagGroup, "CallDiagnostics/group-audio-voip1-to-server")), want: []model.Record{asUpdate(diaGroup1Up)}},
	{name: "diagnostics-updates/group-audio-server-to-1", parts: updatesOf(with(diagGroup, "CallDiagnostics/group-audio-server-to-voip1")), want: []model.Record{asUpdate(diaGroup1Down)}},
	{name: "diagnostics-updates/group-audio-3-to-server", parts: updatesOf(with(diagGroup, "CallDiagnostics/group-audio-voip3-to-server")), want: []model.Record{asUpdate(diaGroup3Up)}},
	{name: "diagnostics-updates/group-audio-server-to-3", parts: updatesOf(with(diagGroup, "CallDiagnostics/group-audio-server-to-voip3")), want: []model.Record{asUpdate(diaGroup3Down)}},

	{
		name:  "client-operations/createview",
		parts: []string{"CallClientOperations/createview"},
		want: []model.Record{{
			Category: model.CatCallClientOperations, RawCategory: "ACSCallClientOperations",
			CallID: "92d800c4-abde-40be-91e9-3814ee786b19", Time: ts("2024-01-09T17:06:50.3Z"), Known: true,
			Operation: &model.Operation{
				Name: "CreateView", Type: "client-api-request", OperationID: "0d987336-37e0-4acc-aba3-e48741d88103",
				ParticipantID: "2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c", ClientInstanceID: "d08a3d05-db90-415f-88a7-87ae74edc1dd",
				ClientTime: ts("2024-01-09T15:07:56.066Z"), DurationMs: fp(577), ResultType: "Succeeded", ResultSignature: ip(200),
				SDKVersion: "1.19.2.2_beta",
				UserAgent:  "azure-communication-services/1.3.1-beta.1 azsdk-js-communication-calling/1.19.2-beta.2 (javascript_calling_sdk;#clientTag:904f667c-5f25-4729-9ee8-6968b0eaa40b). Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
				Payload:    `{"RemoteParticipantId":"remote","Source":"remote","StreamId":"2.0","StreamType":"Video"}`,
			},
		}},
	},
	{
		name:  "media-stats/jitter-recv-audio",
		parts: []string{"CallClientMediaStatsTimeSeries/jitter-recv-audio"},
		want: []model.Record{{
			Category: model.CatCallClientMediaStatsTimeSeries, RawCategory: "ACSCallClientMediaStatsTimeSeries",
			CallID: "92d800c4-abde-40be-91e9-3814ee786b19", Time: ts("2024-01-10T07:36:51.771Z"), Known: true,
			Sample: &model.Sample{
				ParticipantID: "2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c", ClientInstanceID: "d08a3d05-db90-415f-88a7-87ae74edc1dd",
				MediaType: model.MediaAudio, Direction: model.DirInbound, Codec: "OPUS", Metric: "JitterInMs",
				ClientTime: ts("2024-01-09T15:07:56.066Z"),
				Count:      fp(2), Sum: fp(34), Average: fp(17), Minimum: fp(10), Maximum: fp(25), IntervalSeconds: fp(10),
			},
		}},
	},

	// A survey's CorrelationId is the participant id; the call is CallId.
	{name: "survey/overall", parts: []string{"CallSurvey/overall-call"}, want: []model.Record{survey("2023-04-12T14:21:35.070092Z", "fcc1234f-ce69-ZZZZ-b73f-b036051test4", model.Survey{
		SurveyID: "a6dd61c4-b924-4885-96a4-a991d4c09e8b", ParticipantID: p2pCall,
		Overall: rating(7, 0, 10, 5), OverallIssues: "CallCannotJoin",
	})}},
	{name: "survey/audio", parts: []string{"CallSurvey/audio"}, want: []model.Record{survey("2023-04-12T14:21:35.070092Z", "fcc1234f-ce69-ZZZZ-b73f-b036051test4", model.Survey{
		SurveyID: "a6dd61c4-xxxx-4885-96a4-a991d4c09e8b", ParticipantID: p2pCall,
		Audio: rating(6, 0, 10, 4), AudioIssues: "NoRemoteAudio",
	})}},
	{name: "survey/video", parts: []string{"CallSurvey/video"}, want: []model.Record{survey("2023-04-12T14:21:35.070092Z", "fcc87f7f-ce69-eeed-7777-b036051faea4", model.Survey{
		SurveyID: "a6dd61c4-zzzz-4885-tttt-a991d4c09e8b", ParticipantID: p2pCall,
		Video: rating(9, 0, 10, 7), VideoIssues: "NoVideoReceived",
	})}},
	{name: "survey/screenshare", parts: []string{"CallSurvey/screenshare"}, want: []model.Record{survey("2023-04-12T14:21:35.070092Z", "1237f7f-ce69-ffff-b73f-b036051f6666", model.Survey{
		SurveyID: "a6dd6bbb-b924-zzzz-96a4-a991d4c01000", ParticipantID: p2pCall,
		Screenshare: rating(2, 0, 10, 3), ScreenshareIssues: "StoppedUnexpectedly,CannotPresent",
	})}},

	// Resource-level daily aggregates: known, but no call and no payload.
	{name: "calling-metrics/first-copy", parts: []string{"CallingMetrics/ufd-camera-stopped-unexpectedly-1"}, want: []model.Record{{
		Category: model.CatCallingMetrics, RawCategory: "CallingMetrics", Resource: resMetrics,
		Time: ts("2025-02-03T05:17:39.184Z"), Known: true,
	}}},
	{name: "calling-metrics/second-copy", parts: []string{"CallingMetrics/ufd-camera-stopped-unexpectedly-2"}, want: []model.Record{{
		Category: model.CatCallingMetrics, RawCategory: "CallingMetrics", Resource: resMetrics,
		Time: ts("2025-02-03T05:17:39.184Z"), Known: true,
	}}},

	// The Call Automation and Call Recording request samples are portal
	// grid copies without a category column; the test adds the category
	// of the page they were published on (see TestPublishedWithoutCategory).
	{
		name: "automation-operational/play", parts: []string{"CallAutomationOperational/play"},
		envelope: `"category":"CallAutomationOperational"`,
		want: []model.Record{{
			Category: model.CatCallAutomationOperational, RawCategory: "CallAutomationOperational",
			CallID: p2pCall, Time: ts("2023-05-25T17:43:25.746Z"), Known: true,
			Event: &model.ServiceEvent{Name: "Play", Result: "Succeeded", Code: ip(202), DurationMs: fp(82), Detail: "File"},
		}},
	},
	{
		name: "automation-media-summary/play-completed", parts: []string{"CallAutomationMediaSummary/play-completed"},
		envelope: `"category":"CallAutomationMediaSummary"`,
		want: []model.Record{{
			Category: model.CatCallAutomationMediaSummary, RawCategory: "CallAutomationMediaSummary",
			CallID: groupCall, Time: ts("2023-05-24T19:57:40.480Z"), Known: true,
			Event: &model.ServiceEvent{Name: "Play", Result: "Completed", Code: ip(200), SubCode: ip(0), Detail: "Action completed successfully."},
		}},
	},
	{
		name: "automation-streaming/unmixed-audio", parts: []string{"CallAutomationStreamingUsage/unmixed-audio-streaming"},
		envelope: `"category":"CallAutomationStreamingUsage"`,
		want: []model.Record{{
			Category: model.CatCallAutomationStreamingUsage, RawCategory: "CallAutomationStreamingUsage",
			CallID: groupCall, Time: ts("2023-05-24T19:57:40.480Z"), Known: true,
			Event: &model.ServiceEvent{ParticipantID: "7a5ae46f-efb0-4abb-bc9f-c1f1ccfd1470", DurationMs: fp(1172487.9394),
				StartTime: ts("2023-05-24T19:57:45.480Z"), Detail: "AudioStreamingUnmixed"},
		}},
	},
	{
		name: "recording-operational/resume", parts: []string{"CallRecordingOperational/resume-recording"},
		envelope: `"category":"CallRecordingOperational"`,
		want: []model.Record{{
			Category: model.CatCallRecordingOperational, RawCategory: "CallRecordingOperational",
			CallID: "a999f996-b4e1-xxxx-ac04-a59test87d97", Time: ts("2023-05-09T15:58:30.100Z"), Known: true,
			Event: &model.ServiceEvent{Name: "ResumeCallRecording", Result: "Succeeded", Code: ip(202), DurationMs: fp(130)},
		}},
	},
	{
		name: "recording-summary/one-recording", parts: []string{"CallRecordingSummary/one-call-one-recording"},
		want: []model.Record{{
			Category: model.CatCallRecordingSummary, RawCategory: "CallRecordingSummary",
			CallID: "zzzzzz-cada-4164-be10-0000000000", Time: ts("2022-08-17T23:18:26.4332392Z"), Known: true,
			Event: &model.ServiceEvent{Name: "RecordingSummary", Result: "Succeeded", DurationMs: fp(73872940),
				StartTime: ts("2022-08-16T09:07:54Z"), Detail: "CallEnded"},
		}},
	},
	{
		name: "recording-summary/two-recordings", parts: []string{"CallRecordingSummary/one-call-many-recordings"},
		want: []model.Record{{
			Category: model.CatCallRecordingSummary, RawCategory: "CallRecordingSummary",
			CallID: "xxxxxxx-cf78-4156-zzzz-0000000fa29cc", Time: ts("2022-08-17T23:55:46.6304762Z"), Known: true,
			Event: &model.ServiceEvent{Name: "RecordingSummary", Result: "Succeeded", DurationMs: fp(3340),
				StartTime: ts("2022-08-17T23:55:43.3304762Z"), Detail: "CallEnded"},
		}, {
			Category: model.CatCallRecordingSummary, RawCategory: "CallRecordingSummary",
			CallID: "xxxxxxx-cf78-4156-zzzz-0000000fa29cc", Time: ts("2022-08-17T23:55:56.7664976Z"), Known: true,
			Event: &model.ServiceEvent{Name: "RecordingSummary", Result: "Succeeded", DurationMs: fp(2700),
				StartTime: ts("2022-08-17T23:55:54.0664976Z"), Detail: "CallEnded"},
		}},
	},
	// The page's envelope fragment names the category RecordingSummary and
	// the operation "Call Recording Summary"; combined with a record, the
	// envelope's values come first and win.
	{
		name:  "recording-summary/page-envelope",
		parts: []string{"CallRecordingSummary/operation-category", "CallRecordingSummary/one-call-one-recording"},
		want: []model.Record{{
			Category: model.CatCallRecordingSummary, RawCategory: "RecordingSummary",
			CallID: "zzzzzz-cada-4164-be10-0000000000", Time: ts("2022-08-17T23:18:26.4332392Z"), Known: true,
			Event: &model.ServiceEvent{Name: "Call Recording Summary", Result: "Succeeded", DurationMs: fp(73872940),
				StartTime: ts("2022-08-16T09:07:54Z"), Detail: "CallEnded"},
		}},
	},
	{
		name: "closed-captions/stopped", parts: []string{"CallClosedCaptionsSummary/stopped"},
		want: []model.Record{{
			Category: model.CatCallClosedCaptionsSummary, RawCategory: "ACSCallClosedCaptionsSummary",
			Resource: "/a0a0a0a0-bbbb-cccc-dddd-e1e1e1e1e1e1",
			CallID:   p2pCall, Time: ts("2023-11-14T23:18:26.4332392Z"), Known: true,
			Event: &model.ServiceEvent{Name: "ClosedCaptionsSummary", Result: "Succeeded", DurationMs: fp(666660),
				StartTime: ts("2023-11-14T03:04:05.123Z"), Detail: "Stopped"},
		}},
	},
}

// publishedItems builds the items one case stands for with the test
// helper.
func publishedItems(t *testing.T, c publishedCase) []ingest.Item {
	return publishedItemsVia(t, c, false)
}

// publishedItemsVia builds the items one case stands for, through the
// ingest reader (each repaired object as one JSON line) when viaReader is
// set.
func publishedItemsVia(t *testing.T, c publishedCase, viaReader bool) []ingest.Item {
	t.Helper()
	var frags []string
	if c.envelope != "" {
		frags = append(frags, c.envelope)
	}
	for _, p := range c.parts {
		b, err := os.ReadFile(filepath.Join("testdata", "published", p+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		frags = append(frags, string(b))
	}
	var items []ingest.Item
	for i, obj := range repairPublished(frags...) {
		if viaReader {
			var line bytes.Buffer
			if err := json.Compact(&line, []byte(obj)); err != nil {
				t.Fatalf("repaired sample is not JSON: %v\n%s", err, obj)
			}
			items = append(items, readerItems(t, c.name, line.Bytes())...)
			continue
		}
		it, err := itemFromJSON([]byte(obj), c.name, i+1, ingest.FormatJSONLines)
		if err != nil {
			t.Fatalf("repaired sample is not a JSON object: %v\n%s", err, obj)
		}
		items = append(items, it)
	}
	return items
}

// comparable drops what the expectations do not state.
func comparable(r model.Record) model.Record {
	r.ID, r.Raw = "", nil
	return r
}

func recordJSON(r model.Record) string {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestPublishedSamples(t *testing.T) {
	ids := map[string]string{} // id -> case that produced it
	for _, c := range publishedCases {
		t.Run(c.name, func(t *testing.T) {
			items := publishedItems(t, c)
			viaReader := publishedItemsVia(t, c, true)
			if len(viaReader) != len(items) {
				t.Fatalf("the reader found %d records, the test helper %d", len(viaReader), len(items))
			}
			for i, it := range viaReader {
				got, err := Normalize(it)
				if err != nil {
					t.Fatalf("record %d read by the reader: %v", i, err)
				}
				helper, _ := Normalize(items[i])
				if got.ID != helper.ID || recordJSON(comparable(got)) != recordJSON(comparable(helper)) {
					t.Errorf("record %d: the reader's item normalizes differently:\n%s\n%s", i, recordJSON(got), recordJSON(helper))
				}
			}
			if len(items) != len(c.want) {
				t.Fatalf("got %d records, want %d", len(items), len(c.want))
			}
			for i, it := range items {
				got, err := Normalize(it)
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if !hexID.MatchString(got.ID) {
					t.Errorf("record %d: ID %q is not 32 hex digits", i, got.ID)
				}
				if string(got.Raw) != string(it.Raw) {
					t.Errorf("record %d: Raw is not the item's raw bytes", i)
				}
				if g, w := recordJSON(comparable(got)), recordJSON(c.want[i]); g != w {
					t.Errorf("record %d:\ngot  %s\nwant %s", i, g, w)
				}
				key := c.name
				if prev, ok := ids[got.ID]; ok && !strings.HasPrefix(prev, "calling-metrics/") {
					t.Errorf("record %d: ID %s already produced by %s", i, got.ID, prev)
				}
				ids[got.ID] = key
			}
		})
	}
}

// The page publishes the same CallingMetrics record twice: one record, one
// ID.
func TestPublishedDuplicateHasOneID(t *testing.T) {
	var got []string
	for _, c := range publishedCases {
		if strings.HasPrefix(c.name, "calling-metrics/") {
			r, err := Normalize(publishedItems(t, c)[0])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.ID)
		}
	}
	if len(got) != 2 || got[0] != got[1] {
		t.Fatalf("IDs of the two copies: %v, want two equal IDs", got)
	}
}

// Without the category the test adds, a portal grid copy has no category
// at all: it is kept, unknown, and is not an error.
func TestPublishedWithoutCategory(t *testing.T) {
	for _, c := range publishedCases {
		if c.envelope == "" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			c.envelope = ""
			it := publishedItems(t, c)[0]
			got, err := Normalize(it)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Known || got.Category != "" || got.RawCategory != "" || got.CallID != "" || got.Event != nil {
				t.Errorf("got %s, want an unknown record without payload", recordJSON(comparable(got)))
			}
			if got.Time.IsZero() || !hexID.MatchString(got.ID) {
				t.Errorf("unknown record lost its time or ID: %s", recordJSON(got))
			}
		})
	}
}
