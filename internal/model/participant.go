package model

import "strings"

// ParticipantKey returns the id calldiag gives a participant leg: the
// participantId when the row has one, else the endpointId (P2P rows carry no
// participantId), else "endpointType:identifier". Redacted ids are treated as
// absent. It returns "" when none of them is known.
func ParticipantKey(participantID, endpointID string, endpointType EndpointType, identifier string) string {
	if usable(participantID) {
		return participantID
	}
	if usable(endpointID) {
		return endpointID
	}
	if usable(identifier) {
		return string(endpointType) + ":" + identifier
	}
	return ""
}

func usable(s string) bool {
	return s != "" && !strings.EqualFold(s, "Redacted")
}
