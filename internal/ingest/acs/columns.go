package acs

// CSVColumns returns the lower-case column names of which every ACS log
// export's header names at least one. A CSV whose header names none of them
// is not an ACS export.
func CSVColumns() []string {
	return []string{"timegenerated", "time", "type", "category", "correlationid", "callid", "operationname", "resourceid", "_resourceid"}
}
