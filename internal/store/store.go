// Package store defines the storage seam of calldiag: the operations every
// backend (SQLite, ClickHouse) provides, the query types they take, and the
// errors they return. Consumers that need only part of it declare a narrower
// interface in their own package.
//
// It imports only model; it must not import ingest, pipeline, api or web.
package store

import (
	"context"
	"errors"
	"time"

	"calldiag/internal/model"
)

// ErrNotFound is returned when a call or record does not exist.
var ErrNotFound = errors.New("not found")

// ErrBadCursor is returned when a paging cursor cannot be decoded.
var ErrBadCursor = errors.New("invalid cursor")

// Store is what a backend provides. Every method is safe for concurrent use.
type Store interface {
	// Append stores a batch of normalized records in one transaction: either
	// every new record of the batch is stored or none is. Records whose ID is
	// already stored are skipped and counted as duplicates. The call summaries
	// of every touched call are brought up to date in the same transaction.
	Append(ctx context.Context, batch []model.Record) (AppendResult, error)
	// SearchCalls returns one page of call summaries.
	SearchCalls(ctx context.Context, q CallQuery) (CallPage, error)
	// Call returns the overview of one call, or ErrNotFound.
	Call(ctx context.Context, id string) (model.Call, error)
	// Timeline returns one page of a call's timeline, or ErrNotFound.
	Timeline(ctx context.Context, q TimelineQuery) (model.Timeline, error)
	// Record returns the original bytes of a stored record, or ErrNotFound.
	Record(ctx context.Context, id string) (StoredRecord, error)
	// ReplaceDetection stores the outcome of issue detection for a call,
	// replacing any earlier one (it is idempotent), and updates the call's
	// summary row so that search filters and sorts see it at once. It
	// returns ErrNotFound for a call the store does not hold.
	ReplaceDetection(ctx context.Context, callID string, d Detection) error
	// Detection returns the stored detection of a call: ErrNotFound for an
	// unknown call, and Quality and Rating "Unknown" with no issues for a
	// call that was never detected.
	Detection(ctx context.Context, callID string) (Detection, error)
	// Stats returns store-wide counts.
	Stats(ctx context.Context) (Stats, error)
	// Facets returns the values the call type, endpoint type, SDK, OS and
	// resource filters of CallQuery can take in the stored calls, with the
	// number of calls that have each. It is cheap however many calls there
	// are: the counts are kept up to date by Append.
	Facets(ctx context.Context) (Facets, error)
	// SetPinned pins or unpins a call: a pinned call is kept by Expire
	// whatever its age. It returns ErrNotFound for an unknown call.
	SetPinned(ctx context.Context, callID string, pinned bool) error
	// Expire removes every unpinned call whose newest record is older than
	// before, each call whole: its summary, participants, streams,
	// timeline, search keys, facet counts, detection, stored records and
	// its share of the Stats counts. It works in short transactions, so
	// appends proceed meanwhile, and running it again removes nothing more.
	// The ids of removed records stay known to the store, so a record
	// delivered again after its call expired is counted as a duplicate and
	// not stored: an expired call never comes back in part. Record of such
	// an id returns ErrNotFound.
	Expire(ctx context.Context, before time.Time) (ExpireResult, error)
	// Close releases the store.
	Close() error
}

// ExpireResult says what Expire removed.
type ExpireResult struct {
	Calls   int `json:"calls"`
	Records int `json:"records"`
}

// AppendResult says what Append did with a batch.
type AppendResult struct {
	Stored     int
	Duplicates int
	// Calls lists the ids of the calls touched by stored records, sorted.
	Calls []string
	// New has one entry per record of the batch: true when that record was
	// stored, false when it was a duplicate.
	New []bool
}

// Sort orders for call search.
const (
	SortStart        = "start"
	SortDuration     = "duration"
	SortParticipants = "participants"
)

// Detection is the stored outcome of issue detection for one call.
type Detection struct {
	// Quality is Good, Poor or Unknown; Rating is Good, Average, Poor or
	// Unknown; RatingScore is the average overall score on a 5-point scale.
	Quality     string
	Rating      string
	RatingScore *float64
	// Issues are ordered most severe first, then by start, then by id.
	Issues []model.Issue
	// MOS holds the estimated MOS of each audio stream, keyed
	// participantId+"/"+streamId.
	MOS map[string]float64
	// Completeness is what telemetry the call had; nil when the detection
	// was stored without it.
	Completeness *model.Completeness
	// Rules fingerprints the rules detection ran with, and Records is the
	// number of the call's records it read: a reader with other rules, or
	// a call that has received records since, detects again instead.
	Rules   string
	Records int
}

// CallQuery filters, sorts and pages call summaries.
type CallQuery struct {
	// IssueKinds keeps calls with an issue of one of these kinds (of any
	// severity).
	IssueKinds []string
	// MinSeverity keeps calls with an issue of this severity or worse.
	MinSeverity model.Severity
	// HasIssues keeps calls with at least one issue of severity warning or
	// worse.
	HasIssues bool
	// Quality and Rating keep calls whose detected quality (Good, Poor,
	// Unknown) or rating (Good, Average, Poor, Unknown) is this.
	Quality string
	Rating  string
	// CallType keeps calls of this type, P2P or Group, spelt exactly so.
	CallType string
	// EndpointType keeps calls with at least one participant of this
	// endpoint type (a model.EndpointType such as VoIP, PSTN, Bot, Teams or
	// Unknown; case-insensitive).
	EndpointType string
	// SDK keeps calls with at least one participant of this SDK version
	// (case-insensitive).
	SDK string
	// OS keeps calls with at least one participant of this operating-system
	// family, as model.OSFamily names it (case-insensitive).
	OS string
	// Resource keeps calls with a record from this ACS resource, one of
	// the call's model.CallSummary.ResourceIDs (case-insensitive).
	Resource string
	// Since and Until bound the call start time (inclusive since, exclusive until); zero means unbounded.
	Since, Until time.Time
	// Q matches, case-insensitively, a call id, participant id, endpoint id or
	// identifier exactly, or a prefix of one when Q has at least 8 characters.
	Q string
	// Sort is one of SortStart (default), SortDuration, SortParticipants.
	Sort string
	// Asc sorts ascending; the default is descending (newest first).
	Asc bool
	// Limit caps the page size (default 50, at most 1000).
	Limit int
	// Cursor continues a previous page.
	Cursor string
}

// Facets are the values of the search filters that stored calls have.
// Each list is sorted by Calls, most first, then by Value. Endpoint types
// and OS families are spelt as model names them, SDK versions and resource
// ids in lower case.
type Facets struct {
	CallTypes     []FacetValue `json:"callTypes"`
	EndpointTypes []FacetValue `json:"endpointTypes"`
	SDKs          []FacetValue `json:"sdks"`
	OSes          []FacetValue `json:"oses"`
	Resources     []FacetValue `json:"resources"`
}

// FacetValue is one value of a filter and the number of calls that have it.
type FacetValue struct {
	Value string `json:"value"`
	Calls int    `json:"calls"`
}

// MaxCallTotal is the most matching calls a search counts for
// CallPage.Total: counting every call that matches a broad filter of a large
// store would cost far more than finding the page.
const MaxCallTotal = 1000

// CallPage is one page of a call search.
type CallPage struct {
	Calls []model.CallSummary `json:"calls"`
	// Total is the number of calls that match the search's filters (on
	// every page, not only this one), counted up to MaxCallTotal.
	Total int `json:"total"`
	// TotalCapped is true when more than MaxCallTotal calls match: Total is
	// then MaxCallTotal and means "at least that many".
	TotalCapped bool   `json:"totalCapped,omitempty"`
	NextCursor  string `json:"nextCursor,omitempty"`
}

// TimelineQuery selects one page of a call's timeline.
type TimelineQuery struct {
	CallID        string
	ParticipantID string
	From, To      time.Time
	// Kinds restricts the items to these kinds (model.Kind*); empty means all.
	Kinds []string
	// Limit caps the number of items (events plus series points) on the page
	// (default 5000, at most 50000).
	Limit  int
	Cursor string
}

// StoredRecord is an original record as it arrived.
type StoredRecord struct {
	ID       string         `json:"id"`
	CallID   string         `json:"callId,omitempty"`
	Category model.Category `json:"category"`
	Resource string         `json:"resource,omitempty"`
	Time     time.Time      `json:"time"`
	Raw      []byte         `json:"-"`
}

// Stats are store-wide counts.
type Stats struct {
	Calls   int `json:"calls"`
	Records int `json:"records"`
	// UnlinkedOperations counts client operations not yet attached to a call.
	UnlinkedOperations int `json:"unlinkedOperations"`
	// LastAppend is when records were last stored (zero before any).
	LastAppend time.Time `json:"lastAppend"`
}

// Limits shared by every backend.
const (
	DefaultCallLimit     = 50
	MaxCallLimit         = 1000
	DefaultTimelineLimit = 5000
	MaxTimelineLimit     = 50000
)
