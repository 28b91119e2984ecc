# Reference for analysis `descriptives` with `denominator: participants` (issue 16): HDRS-17 by visit and
# arm on the shipped synthetic ketamine vs ECT trial, counted against the randomised n of each arm
# (participants.csv), so that a participant without a rating at a visit is missing, not absent.
# Run from the project root:  Rscript tests/reference/descriptives/make_reference.R
# Base R only: mean, sd, median, quantile(type = 7), min, max, and counts with merge / table.
library(jsonlite)

data_dir <- "ketastats/datasets/ketamine_vs_ect"
participants <- read.csv(file.path(data_dir, "participants.csv"), stringsAsFactors = FALSE)
ratings <- read.csv(file.path(data_dir, "ratings.csv"), stringsAsFactors = FALSE)
ratings <- merge(ratings, participants[, c("participant_id", "arm")], by = "participant_id")

visits <- c("baseline", "tx3", "eot", "m1", "m3", "m6")
arms <- c("ect", "ketamine")
randomised <- table(factor(participants$arm, levels = arms))

rows <- list()
for (v in visits) for (a in arms) {
  x <- ratings$hdrs17[ratings$visit == v & ratings$arm == a]
  x <- x[!is.na(x)]
  q <- quantile(x, c(0.25, 0.75), type = 7, names = FALSE)
  rows[[length(rows) + 1]] <- list(
    visit = v, randomized_arm = a, n = length(x), n_subjects = as.integer(randomised[[a]]),
    n_missing = as.integer(randomised[[a]]) - length(x),
    mean = mean(x), sd = sd(x), median = median(x), q1 = q[1], q3 = q[2], min = min(x), max = max(x))
}

out <- list(
  description = "hdrs17 by visit and randomized arm, denominator = randomised participants per arm",
  r_version = R.version.string,
  rows = rows)
write_json(out, "tests/reference/descriptives/reference.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
