package bind

// CheckMemberNames exposes the member-name walk to the tests.
var CheckMemberNames = checkMembers
