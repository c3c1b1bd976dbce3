package schema

var steps1x = []step{}
