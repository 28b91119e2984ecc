suppressMessages(library(mmrm)); d <- read.csv("bench.csv"); d$AVISIT <- factor(d$AVISIT); d$ARMCD <- factor(d$ARMCD); d$USUBJID <- factor(d$USUBJID)
for (o in c("L-BFGS-B", "nlminb")) {
t <- system.time(f <- mmrm(Y ~ ARMCD * AVISIT + us(AVISIT | USUBJID), data = d, method = "Kenward-Roger", vcov = "Kenward-Roger-Linear", optimizer = o))
cat("R mmrm", o, "elapsed", t[["elapsed"]], "cpu", t[["user.self"]] + t[["sys.self"]], "logLik", format(as.numeric(logLik(f)), digits = 15), "\n")}
