package acs

// slot names one field calldiag reads. Keys are mapped to slots by one switch
// so that a record is scanned once, without a map, whatever its category.
type slot uint8

const (
	slotNone slot = iota

	// Envelope and routing.
	slotTime
	slotTimeGenerated
	slotResourceID
	slotLAResourceID
	slotCategory
	slotType
	slotCorrelationID
	slotCallID
	slotOperationName
	slotUpdatesVersion

	// Participant identity (summary, diagnostics, client tables, survey).
	slotIdentifier
	slotParticipantID
	slotEndpointID
	slotEndpointType
	slotSDKVersion
	slotTPE

	// CallSummary.
	slotCallStartTime
	slotCallDuration
	slotCallType
	slotTeamsThreadID
	slotParticipantStartTime
	slotParticipantDuration
	slotParticipantEndReason
	slotParticipantEndSubCode
	slotResultCategory
	slotOSVersion
	slotParticipantTenantID
	slotParticipantType
	slotPSTNCallType
	slotDiagnosticOptions
	slotCallDebuggingInfo

	// CallDiagnostics.
	slotMediaType
	slotStreamID
	slotTransportType
	slotRTTAvg
	slotRTTMax
	slotJitterAvg
	slotJitterMax
	slotLossAvg
	slotLossMax
	slotJitterBufferAvg
	slotJitterBufferMax
	slotHealedAvg
	slotHealedMax
	slotFrameRateAvg
	slotRecvHeight
	slotRecvFreeze
	slotPacketUtilization
	slotVideoBitRateAvg
	slotVideoBitRateMax
	slotStreamDirection
	slotCodecName

	// CallClientOperations.
	slotClientTime
	slotOperationType
	slotOperationID
	slotDurationMs
	slotResultType
	slotResultSignature
	slotUserAgent
	slotClientInstanceID
	slotOperationPayload

	// CallClientMediaStatsTimeSeries.
	slotMetricName
	slotCount
	slotSum
	slotAverage
	slotMinimum
	slotMaximum
	slotStreamDirectionStats
	slotStreamTypeStats
	slotStreamCodec
	slotRemoteParticipantID
	slotRemoteEndpointID
	slotMediaStreamID
	slotIntervalSeconds

	// CallSurvey.
	slotSurveyID
	slotOverallIssues
	slotAudioIssues
	slotVideoIssues
	slotScreenshareIssues
	slotOverallScore
	slotOverallLower
	slotOverallUpper
	slotOverallThreshold
	slotAudioScore
	slotAudioLower
	slotAudioUpper
	slotAudioThreshold
	slotVideoScore
	slotVideoLower
	slotVideoUpper
	slotVideoThreshold
	slotScreenshareScore
	slotScreenshareLower
	slotScreenshareUpper
	slotScreenshareThreshold

	// Call Automation, Call Recording, Closed Captions.
	slotResultCode
	slotResultSubcode
	slotResultMessage
	slotSubOperationName
	slotRecordingEndReason
	slotRecordingStartTime
	slotRecordingLength
	slotStartTime
	slotStreamingStartTime
	slotStreamingDuration
	slotStreamingModality
	slotEndReason
	slotCancelReason
	slotDuration

	numSlots
)

// slotOf maps a lower-cased key to the slot it fills. Misspellings that the
// published documentation uses are folded into the correct slot.
func slotOf(k string) slot {
	switch k {
	case "time":
		return slotTime
	case "timegenerated":
		return slotTimeGenerated
	case "resourceid":
		return slotResourceID
	case "_resourceid":
		return slotLAResourceID
	case "category":
		return slotCategory
	case "type":
		return slotType
	case "correlationid":
		return slotCorrelationID
	case "callid":
		return slotCallID
	case "operationname":
		return slotOperationName
	case "callupdatesversion":
		return slotUpdatesVersion

	case "identifier":
		return slotIdentifier
	case "participantid":
		return slotParticipantID
	case "endpointid":
		return slotEndpointID
	case "endpointtype":
		return slotEndpointType
	case "sdkversion":
		return slotSDKVersion
	case "tpe":
		return slotTPE

	case "callstarttime":
		return slotCallStartTime
	case "callduration":
		return slotCallDuration
	case "calltype":
		return slotCallType
	case "teamsthreadid":
		return slotTeamsThreadID
	case "participantstarttime":
		return slotParticipantStartTime
	case "participantduration":
		return slotParticipantDuration
	case "participantendreason":
		return slotParticipantEndReason
	case "participantendsubcode":
		return slotParticipantEndSubCode
	case "resultcategory":
		return slotResultCategory
	case "osversion":
		return slotOSVersion
	case "participanttenantid":
		return slotParticipantTenantID
	case "participanttype":
		return slotParticipantType
	case "pstnparticipantcalltype", "pstnpartcipantcalltype":
		return slotPSTNCallType
	case "diagnosticoptions":
		return slotDiagnosticOptions
	case "calldebugginginfo":
		return slotCallDebuggingInfo

	case "mediatype":
		return slotMediaType
	case "streamid":
		return slotStreamID
	case "transporttype":
		return slotTransportType
	case "roundtriptimeavg":
		return slotRTTAvg
	case "roundtriptimemax":
		return slotRTTMax
	case "jitteravg":
		return slotJitterAvg
	case "jittermax":
		return slotJitterMax
	case "packetlossrateavg":
		return slotLossAvg
	case "packetlossratemax":
		return slotLossMax
	case "jitterbuffersizeavg":
		return slotJitterBufferAvg
	case "jitterbuffersizemax":
		return slotJitterBufferMax
	case "healeddataratioavg":
		return slotHealedAvg
	case "healeddataratiomax":
		return slotHealedMax
	case "videoframerateavg":
		return slotFrameRateAvg
	case "recvresolutionheight":
		return slotRecvHeight
	case "recvfreezedurationperminuteinms":
		return slotRecvFreeze
	case "packetutilization":
		return slotPacketUtilization
	case "videobitrateavg":
		return slotVideoBitRateAvg
	case "videobitratemax":
		return slotVideoBitRateMax
	case "streamdirection":
		return slotStreamDirection
	case "codecname":
		return slotCodecName

	case "callclienttimestamp":
		return slotClientTime
	case "operationtype":
		return slotOperationType
	case "operationid":
		return slotOperationID
	case "durationms":
		return slotDurationMs
	case "resulttype":
		return slotResultType
	case "resultsignature":
		return slotResultSignature
	case "useragent":
		return slotUserAgent
	case "clientinstanceid":
		return slotClientInstanceID
	case "operationpayload":
		return slotOperationPayload

	case "metricname":
		return slotMetricName
	case "count":
		return slotCount
	case "sum":
		return slotSum
	case "average":
		return slotAverage
	case "minimum":
		return slotMinimum
	case "maximum":
		return slotMaximum
	case "mediastreamdirection":
		return slotStreamDirectionStats
	case "mediastreamtype":
		return slotStreamTypeStats
	case "mediastreamcodec":
		return slotStreamCodec
	case "remoteparticipantid":
		return slotRemoteParticipantID
	case "remoteendpointid":
		return slotRemoteEndpointID
	case "mediastreamid":
		return slotMediaStreamID
	case "aggregationintervalseconds":
		return slotIntervalSeconds

	case "surveyid":
		return slotSurveyID
	case "overallcallissues":
		return slotOverallIssues
	case "audioissues":
		return slotAudioIssues
	case "videoissues":
		return slotVideoIssues
	case "screenshareissues":
		return slotScreenshareIssues
	case "overallratingscore":
		return slotOverallScore
	case "overallratingscorelowerbound":
		return slotOverallLower
	case "overallratingscoreupperbound":
		return slotOverallUpper
	case "overallratingscorethreshold":
		return slotOverallThreshold
	case "audioratingscore":
		return slotAudioScore
	case "audioratingscorelowerbound":
		return slotAudioLower
	case "audioratingscoreupperbound":
		return slotAudioUpper
	case "audioratingscorethreshold":
		return slotAudioThreshold
	case "videoratingscore":
		return slotVideoScore
	case "videoratingscorelowerbound":
		return slotVideoLower
	case "videoratingscoreupperbound":
		return slotVideoUpper
	case "videoratingscorethreshold":
		return slotVideoThreshold
	case "screenshareratingscore":
		return slotScreenshareScore
	case "screenshareratingscorelowerbound", "screensharelowerbound":
		return slotScreenshareLower
	case "screenshareratingscoreupperbound", "screenshareupperbound":
		return slotScreenshareUpper
	case "screenshareratingscorethreshold", "screenshareratingthreshold":
		return slotScreenshareThreshold

	case "resultcode":
		return slotResultCode
	case "resultsubcode":
		return slotResultSubcode
	case "resultmessage":
		return slotResultMessage
	case "suboperationname":
		return slotSubOperationName
	case "recordingendreason":
		return slotRecordingEndReason
	case "recordingstarttime":
		return slotRecordingStartTime
	case "recordinglength":
		return slotRecordingLength
	case "starttime":
		return slotStartTime
	case "streamingstarttime":
		return slotStreamingStartTime
	case "streamingdurationinms":
		return slotStreamingDuration
	case "streamingmodality":
		return slotStreamingModality
	case "endreason":
		return slotEndReason
	case "cancelreason":
		return slotCancelReason
	case "duration":
		return slotDuration
	}
	return slotNone
}

// keyAlias returns the key under which a field takes part in the record
// identity. Keys that the documentation spells differently in an export
// and in a Log Analytics table are folded into one spelling, so that both
// shapes of a record hash alike.
func keyAlias(k string) string {
	switch k {
	case "pstnpartcipantcalltype":
		return "pstnparticipantcalltype"
	case "interrupted":
		return "playinterrupted"
	case "screensharelowerbound":
		return "screenshareratingscorelowerbound"
	case "screenshareupperbound":
		return "screenshareratingscoreupperbound"
	case "screenshareratingthreshold":
		return "screenshareratingscorethreshold"
	}
	return k
}
