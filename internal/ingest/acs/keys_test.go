package acs

import (
	"slices"
	"testing"

	"calldiag/internal/ingest"
	"calldiag/internal/model"
)

// routingKeys are read for every category: they give a record its time,
// resource and category.
var routingKeys = []string{"time", "timegenerated", "resourceid", "_resourceid", "category", "type"}

var summaryKeys = []string{
	"correlationid", "identifier", "callstarttime", "callduration", "calltype", "teamsthreadid",
	"participantid", "participantstarttime", "participantduration", "participantendreason",
	"participantendsubcode", "resultcategory", "endpointid", "endpointtype", "sdkversion", "osversion",
	"participanttenantid", "participanttype", "pstnparticipantcalltype", "diagnosticoptions",
	"calldebugginginfo", "tpe",
}

var diagnosticsKeys = []string{
	"correlationid", "identifier", "participantid", "endpointid", "endpointtype", "mediatype", "streamid",
	"transporttype", "roundtriptimeavg", "roundtriptimemax", "jitteravg", "jittermax",
	"packetlossrateavg", "packetlossratemax", "jitterbuffersizeavg", "jitterbuffersizemax",
	"healeddataratioavg", "healeddataratiomax", "videoframerateavg", "recvresolutionheight",
	"recvfreezedurationperminuteinms", "packetutilization", "videobitrateavg", "videobitratemax",
	"streamdirection", "codecname", "tpe",
}

// mappedKeys lists, per category, the keys whose values the model holds.
var mappedKeys = map[model.Category][]string{
	model.CatCallSummary:            summaryKeys,
	model.CatCallSummaryUpdates:     append(slices.Clone(summaryKeys), "callupdatesversion"),
	model.CatCallDiagnostics:        diagnosticsKeys,
	model.CatCallDiagnosticsUpdates: append(slices.Clone(diagnosticsKeys), "callupdatesversion"),
	model.CatCallClientOperations: {
		"callclienttimestamp", "operationname", "callid", "participantid", "operationtype", "operationid",
		"durationms", "resulttype", "resultsignature", "sdkversion", "useragent", "clientinstanceid",
		"endpointid", "operationpayload",
	},
	model.CatCallClientMediaStatsTimeSeries: {
		"callid", "callclienttimestamp", "metricname", "count", "sum", "average", "minimum", "maximum",
		"mediastreamdirection", "mediastreamtype", "mediastreamcodec", "participantid", "clientinstanceid",
		"endpointid", "remoteparticipantid", "remoteendpointid", "mediastreamid", "aggregationintervalseconds",
	},
	model.CatCallSurvey: {
		"callid", "surveyid", "participantid", "overallcallissues", "audioissues", "videoissues",
		"screenshareissues",
		"overallratingscore", "overallratingscorelowerbound", "overallratingscoreupperbound", "overallratingscorethreshold",
		"audioratingscore", "audioratingscorelowerbound", "audioratingscoreupperbound", "audioratingscorethreshold",
		"videoratingscore", "videoratingscorelowerbound", "videoratingscoreupperbound", "videoratingscorethreshold",
		"screenshareratingscore", "screenshareratingscorelowerbound", "screenshareratingscoreupperbound", "screenshareratingscorethreshold",
		"screensharelowerbound", "screenshareupperbound", "screenshareratingthreshold",
	},
	model.CatCallingMetrics:               {},
	model.CatCallAutomationOperational:    {"correlationid", "operationname", "resulttype", "resultsignature", "durationms", "suboperationname"},
	model.CatCallAutomationMediaSummary:   {"correlationid", "operationname", "resulttype", "resultcode", "resultsubcode", "resultmessage"},
	model.CatCallAutomationStreamingUsage: {"correlationid", "participantid", "streamingmodality", "streamingstarttime", "streamingdurationinms"},
	model.CatCallRecordingOperational:     {"correlationid", "operationname", "resulttype", "resultsignature", "durationms"},
	model.CatCallRecordingSummary:         {"correlationid", "operationname", "resulttype", "recordingendreason", "recordingstarttime", "recordinglength"},
	model.CatCallClosedCaptionsSummary:    {"correlationid", "operationname", "resulttype", "endreason", "cancelreason", "starttime", "duration"},
}

// Reasons for leaving a published key out of the model. Every ignored key
// still takes part in the record identity (unless identity excludes it)
// and stays in Raw.
const (
	whyWorkspace  = "Log Analytics workspace column, not a property of the record"
	whyVersion    = "version of the property set, not of the call"
	whyLevel      = "severity of a service record; no call diagnosis uses it"
	whyConstant   = "always the category's own name in this table"
	whyRequest    = "detail of a service request that the timeline does not show; kept in Raw"
	whyArtifact   = "id or format of a service artifact (recording, caption session, stream) the timeline does not show; kept in Raw"
	whyAggregate  = "dimension of a resource-level daily aggregate; calldiag keeps such records raw"
	whyNotTheCall = "holds the participant id here (ParticipantId has it too), not the call id"
)

var commonIgnored = map[string]string{"tenantid": whyWorkspace, "sourcesystem": whyWorkspace, "operationversion": whyVersion}

var ignoredKeys = map[model.Category]map[string]string{
	model.CatCallSummary:                    {"operationname": whyConstant},
	model.CatCallSummaryUpdates:             {"operationname": whyConstant},
	model.CatCallDiagnostics:                {"operationname": whyConstant},
	model.CatCallDiagnosticsUpdates:         {"operationname": whyConstant},
	model.CatCallClientOperations:           {},
	model.CatCallClientMediaStatsTimeSeries: {"operationname": whyConstant},
	model.CatCallSurvey:                     {"operationname": whyConstant, "correlationid": whyNotTheCall},
	model.CatCallingMetrics: {
		"operationname": whyConstant, "correlationid": whyAggregate, "timestampmax": whyAggregate,
		"timestampbin": whyAggregate, "metricvalueavg": whyAggregate, "unit": whyAggregate, "goal": whyAggregate,
		"failedlegsdcount": whyAggregate, "successlegsdcount": whyAggregate, "callsdcount": whyAggregate,
		"legsdcount": whyAggregate, "subcode": whyAggregate, "calltype": whyAggregate, "platform": whyAggregate,
		"resulttype": whyAggregate, "devicemodel": whyAggregate, "devicebrand": whyAggregate,
		"devicefamily": whyAggregate, "deviceosversionmajor": whyAggregate, "deviceosversionminor": whyAggregate,
		"devicebrowserversionminor": whyAggregate, "devicebrowserversionmajor": whyAggregate,
		"deviceosname": whyAggregate, "devicebrowser": whyAggregate, "sdkversion": whyAggregate,
		"metricname": whyAggregate,
	},
	model.CatCallAutomationOperational: {
		"level": whyLevel, "uri": whyRequest, "calleripaddress": whyRequest,
		"callconnectionid": whyRequest, "servercallid": whyRequest, "sdkversion": whyRequest,
		"sdktype": whyRequest, "operationid": whyRequest,
	},
	model.CatCallAutomationMediaSummary: {
		"level": whyLevel, "operationid": whyRequest, "playinloop": whyRequest, "playtoparticipant": whyRequest,
		"playinterrupted": whyRequest, "recognizepromptsuboperationname": whyRequest,
	},
	model.CatCallAutomationStreamingUsage: {"callconnectionid": whyRequest, "streamingsessionid": whyArtifact},
	model.CatCallRecordingOperational: {
		"level": whyLevel, "uri": whyRequest, "calleripaddress": whyRequest, "callconnectionid": whyRequest,
		"servercallid": whyRequest, "sdkversion": whyRequest, "sdktype": whyRequest,
	},
	model.CatCallRecordingSummary: {
		"level": whyLevel, "recordingid": whyArtifact, "chunkcount": whyArtifact, "contenttype": whyArtifact,
		"channeltype": whyArtifact, "formattype": whyArtifact, "audiochannelscount": whyArtifact,
	},
	model.CatCallClosedCaptionsSummary: {"level": whyLevel, "speechrecognitionsessionid": whyArtifact, "spokenlanguage": whyArtifact},
}

func withoutKey(it ingest.Item, key string) ingest.Item {
	out := it
	out.Fields = nil
	for _, f := range it.Fields {
		if f.Key != key {
			out.Fields = append(out.Fields, f)
		}
	}
	return out
}

// TestPublishedKeysMapped fails when a published sample has a key that the
// model neither maps nor explicitly ignores, when removing an ignored key
// changes the normalized record, and when a key listed as mapped never
// changes it.
func TestPublishedKeysMapped(t *testing.T) {
	effect := map[model.Category]map[string]bool{} // mapped keys seen with a value → did removing it matter
	for _, c := range publishedCases {
		for _, it := range publishedItems(t, c) {
			base, err := Normalize(it)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			cat := base.Category
			mapped, ignored := mappedKeys[cat], ignoredKeys[cat]
			if mapped == nil || ignored == nil {
				t.Fatalf("%s: no key lists for category %q", c.name, cat)
			}
			if effect[cat] == nil {
				effect[cat] = map[string]bool{}
			}
			for _, f := range it.Fields {
				k := f.Key
				if slices.Contains(routingKeys, k) {
					continue
				}
				why, isIgnored := ignored[k]
				if !isIgnored {
					why, isIgnored = commonIgnored[k]
				}
				isMapped := slices.Contains(mapped, k)
				if !isMapped && !isIgnored {
					t.Errorf("%s: published key %q is neither mapped by the model nor ignored for %s", c.name, k, cat)
					continue
				}
				if isNull(f.Value) {
					continue
				}
				got, err := Normalize(withoutKey(it, k))
				changed := err != nil || recordJSON(comparable(got)) != recordJSON(comparable(base))
				if isIgnored && changed {
					t.Errorf("%s: removing ignored key %q (%s) changed the record", c.name, k, why)
				}
				if isMapped {
					effect[cat][k] = effect[cat][k] || changed
				}
			}
		}
	}
	for cat, keys := range effect {
		for k, changed := range keys {
			if !changed {
				t.Errorf("%s: key %q is listed as mapped but removing it never changed a record", cat, k)
			}
		}
	}
}
