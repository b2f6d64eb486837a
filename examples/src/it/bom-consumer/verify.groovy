// Runs after both builds (invoker.properties). The first passed, or the invoker would have
// failed already; the second must have failed at the ban on the testkit, not for another reason.
def log = new File(basedir, 'build.log').text
assert log =~ /io\.mailtls:mailtls-testkit:jar:\S+ <--- banned/ : 'the control did not fail at the ban on the testkit'
return true
