package model

import "testing"

func TestDescribeClientTypes(t *testing.T) {
	tests := []struct {
		in   map[EndpointType]int
		want string
	}{
		{nil, ""},
		{map[EndpointType]int{EndpointVoIP: 0}, ""},
		{map[EndpointType]int{EndpointVoIP: 3, EndpointPSTN: 1}, "3 VoIP, 1 PSTN"},
		{map[EndpointType]int{EndpointPSTN: 2, EndpointVoIP: 2, EndpointBot: 5}, "5 Bot, 2 PSTN, 2 VoIP"},
	}
	for _, tc := range tests {
		if got := DescribeClientTypes(tc.in); got != tc.want {
			t.Errorf("DescribeClientTypes(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
