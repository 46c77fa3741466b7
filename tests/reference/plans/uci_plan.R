# Reference values for plans/h-uci-paid-organic.yaml (hypotheses U1-U3), computed independently in R.
# Run from the project root:  Rscript tests/reference/plans/uci_plan.R /work/shared/datasets
args <- commandArgs(trailingOnly = TRUE)
mirror <- if (length(args)) args[1] else "../shared/datasets"
library(MASS)
d <- read.csv(file.path(mirror, "uci_facebook_metrics", "dataset_Facebook.csv"), sep = ";", check.names = FALSE)
d$paid <- d$Paid == 1
d$reach <- d[["Lifetime Post Total Reach"]]
d$total <- d$like + d$comment + d$share                      # NA if any part is NA
d$rate <- d$total / d$reach
d$category <- factor(c("action", "product", "inspiration")[d$Category],
                     levels = c("action", "product", "inspiration"))

# U1: Welch t test, paid (group_a) vs organic (group_b), interactions per reach, two-sided, NAs omitted
u1d <- d[!is.na(d$rate) & !is.na(d$paid), ]
u1 <- t.test(u1d$rate[u1d$paid], u1d$rate[!u1d$paid], var.equal = FALSE, alternative = "two.sided",
             conf.level = 0.95)
# U2: NB2 GLM, comments with log(reach) offset, paid vs organic, one-sided "less" (Wald z)
u2d <- d[!is.na(d$comment) & !is.na(d$paid) & !is.na(d$reach), ]
u2d$paidf <- factor(ifelse(u2d$paid, "paid", "organic"), levels = c("organic", "paid"))
u2 <- glm.nb(comment ~ paidf + offset(log(reach)), data = u2d)
z <- coef(summary(u2))["paidfpaid", "z value"]
rr <- exp(coef(u2)["paidfpaid"])
ci <- exp(confint.default(u2, "paidfpaid", level = 0.95))
u2_p <- pnorm(z)                                              # H1: rate ratio paid/organic < 1
# U3: Kruskal-Wallis of interactions per reach by category; epsilon^2 = H (n + 1) / (n^2 - 1)
u3d <- d[!is.na(d$rate), ]
u3 <- kruskal.test(rate ~ category, data = u3d)
n3 <- nrow(u3d)
eps2 <- unname(u3$statistic) * (n3 + 1) / (n3^2 - 1)
p <- c(u1$p.value, u2_p, u3$p.value)
out <- data.frame(
  hypothesis_id = c("U1", "U2", "U3"),
  estimate = c(unname(u1$estimate[1] - u1$estimate[2]), unname(rr), eps2),
  ci_low = c(u1$conf.int[1], ci[1], NA), ci_high = c(u1$conf.int[2], ci[2], NA),
  statistic = c(unname(u1$statistic), z, unname(u3$statistic)),
  p_value = p, p_adjusted = p.adjust(p, method = "holm"),
  n = c(nrow(u1d), nrow(u2d), n3))
out[] <- lapply(out, function(x) if (is.numeric(x)) format(x, digits = 17) else x)
write.csv(out, "tests/reference/plans/uci_plan.csv", row.names = FALSE, quote = FALSE)
print(out)
