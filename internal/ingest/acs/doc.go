// Package acs maps Azure Communication Services call-log records to
// calldiag's model: one ingest.Item in, one model.Record out.
//
// It understands the voice and video diagnostic-setting categories
// (CallSummary, CallDiagnostics and their *Updates variants,
// CallClientOperations, CallClientMediaStatsTimeSeries, CallSurvey, the
// Call Automation, Call Recording and Closed Captions categories) whichever
// shape a record arrived in: a Storage archive line, an Event Hub element, a
// Log Analytics row or a CSV export row. Keys are matched case-insensitively
// and values leniently (numbers written as strings, several null spellings),
// because the same record looks different in each of those shapes.
//
// Records of categories calldiag does not model are not errors: they come
// back with Known=false and their raw bytes so that nothing is dropped.
//
// The package imports only model and ingest (and fastjson for nested JSON);
// it must not import store, pipeline or anything above them.
package acs
