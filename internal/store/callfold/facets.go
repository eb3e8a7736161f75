package callfold

import (
	"slices"
	"strings"

	"calldiag/internal/model"
)

// Facets are a call's values of the search facets, each spelt as
// FacetValue spells it, sorted and without repeats.
type Facets struct {
	CallType      string
	EndpointTypes []string
	SDKs          []string
	OSes          []string
	Resources     []string
}

// Facet names the search facets.
type Facet int

// The search facets.
const (
	FacetCallType Facet = iota + 1
	FacetEndpointType
	FacetSDK
	FacetOS
	FacetResource
)

// endpointTypes are the endpoint types the model names.
var endpointTypes = []model.EndpointType{model.EndpointVoIP, model.EndpointPSTN, model.EndpointBot,
	model.EndpointServer, model.EndpointTeams, model.EndpointUnknown}

// FacetValue spells v the way facets store and compare it, so that stored
// values and filters meet: a call type exactly as given; an endpoint type or
// OS family in its model spelling when it is one; everything else (SDK
// versions, resource ids, unknown spellings) trimmed and lower-cased.
func FacetValue(f Facet, v string) string {
	if f == FacetCallType {
		return v
	}
	v = strings.TrimSpace(v)
	switch f {
	case FacetEndpointType:
		for _, e := range endpointTypes {
			if strings.EqualFold(v, string(e)) {
				return string(e)
			}
		}
	case FacetOS:
		for _, o := range model.OSFamilies() {
			if strings.EqualFold(v, o) {
				return o
			}
		}
	}
	return strings.ToLower(v)
}

// callFacets derives a call's facet values from its call type, resources
// and merged participants (with the agent strings of attached orphans).
func callFacets(callType string, resources []string, parts []*part) Facets {
	var f Facets
	if callType != "" {
		f.CallType = callType
	}
	add := func(list *[]string, facet Facet, v string) {
		if v == "" {
			return
		}
		v = FacetValue(facet, v)
		if !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, r := range resources {
		add(&f.Resources, FacetResource, r)
	}
	for _, p := range parts {
		add(&f.EndpointTypes, FacetEndpointType, string(p.endpointType()))
		sdk, osVersion := p.sdk, ""
		if p.sum != nil {
			if p.sum.row.SDKVersion != "" {
				sdk = p.sum.row.SDKVersion
			}
			osVersion = p.sum.row.OSVersion
		}
		if Usable(sdk) {
			add(&f.SDKs, FacetSDK, sdk)
		}
		add(&f.OSes, FacetOS, model.OSFamily(osVersion, p.ua))
	}
	for _, l := range []*[]string{&f.EndpointTypes, &f.SDKs, &f.OSes, &f.Resources} {
		if *l == nil {
			*l = []string{}
		}
		slices.Sort(*l)
	}
	return f
}

// MappedCall is one call a client instance is known in: the call's id, its
// earliest record time and the participant the instance was seen as.
type MappedCall struct {
	ID            string
	First         int64
	ParticipantID string
}

// ChooseCall picks the call an operation logged at t without a call id
// belongs to: the call with the earliest first record at or after t, else
// the one with the latest first record before t. Ties go to the smaller call
// id. It returns -1 when there is no candidate.
func ChooseCall(t int64, cands []MappedCall) int {
	best, after := -1, false
	for i, c := range cands {
		isAfter := c.First >= t
		switch {
		case best < 0:
		case isAfter && !after:
		case isAfter == after && isAfter && (c.First < cands[best].First || (c.First == cands[best].First && c.ID < cands[best].ID)):
		case isAfter == after && !isAfter && (c.First > cands[best].First || (c.First == cands[best].First && c.ID < cands[best].ID)):
		default:
			continue
		}
		best, after = i, isAfter
	}
	return best
}
