# Reference values for models by formula (toolkit.models: interactions, per-term tests, emmeans with `by`).
# Run from the project root:  Rscript tests/reference/models_formula/formula_reference.R
# Needs TOOLKIT_DATA_MIRROR (or /work/shared/datasets) for the UCI Facebook metrics.
suppressPackageStartupMessages({library(MASS); library(glmmTMB); library(emmeans); library(car)})
mirror <- Sys.getenv("TOOLKIT_DATA_MIRROR", "/work/shared/datasets")
out <- "tests/reference/models_formula"
w <- function(x, name) write.csv(x, file.path(out, name), row.names = FALSE)
f17 <- function(x) format(x, digits = 17)
coef_table <- function(m) {
  s <- summary(m)$coefficients
  if (is.list(s) && !is.matrix(s)) s <- s$cond
  data.frame(term = rownames(s), estimate = f17(s[, 1]), std_error = f17(s[, 2]),
             statistic = f17(s[, 3]), p_value = f17(s[, 4]))
}
num_table <- function(d) {
  d <- as.data.frame(d)
  for (k in seq_along(d)) if (is.numeric(d[[k]])) d[[k]] <- f17(d[[k]])
  d
}
anova_table <- function(a) {
  d <- data.frame(term = rownames(a), as.data.frame(a), check.names = FALSE)
  num_table(d)
}

## UCI Facebook metrics: comments with reach as exposure; Type x Paid ------------------------------------
raw <- read.csv(file.path(mirror, "uci_facebook_metrics", "dataset_Facebook.csv"), sep = ";", check.names = FALSE)
fb <- data.frame(comments = raw[["comment"]], reach = raw[["Lifetime Post Total Reach"]], Type = factor(raw[["Type"]]),
                 Paid = factor(ifelse(raw[["Paid"]] == 1, "paid", "unpaid"), levels = c("unpaid", "paid")),
                 month = factor(raw[["Post Month"]]), weekday = factor(raw[["Post Weekday"]]))
fb <- fb[!is.na(fb$Paid), ]            # 1 post without Paid (the toolkit: nan_policy = "omit")
stopifnot(nrow(fb) == 499, all(fb$reach > 0), !anyNA(fb))
cat("levels(month):", levels(fb$month), "\n")

# 1. NB GLM with an interaction ---------------------------------------------------------------------------
nb <- function(f) glm.nb(f, data = fb, control = glm.control(maxit = 100, epsilon = 1e-12))
m <- nb(comments ~ Type * Paid + offset(log(reach)))
w(coef_table(m), "fb_glmnb_interaction_coef.csv")
# likelihood-ratio tests by refitting glm.nb (theta re-estimated in every model)
ll <- function(f) as.numeric(logLik(nb(f)))
lr <- data.frame(
  term = c("Type", "Paid", "Type:Paid", "Type_joint"),
  full = c("Type + Paid", "Type + Paid", "Type * Paid", "Type * Paid"),
  reduced = c("Paid", "Type", "Type + Paid", "Paid"),
  statistic = f17(2 * c(ll(comments ~ Type + Paid + offset(log(reach))) - ll(comments ~ Paid + offset(log(reach))),
                        ll(comments ~ Type + Paid + offset(log(reach))) - ll(comments ~ Type + offset(log(reach))),
                        as.numeric(logLik(m)) - ll(comments ~ Type + Paid + offset(log(reach))),
                        as.numeric(logLik(m)) - ll(comments ~ Paid + offset(log(reach))))),
  df = c(3, 1, 3, 6))
w(lr, "fb_glmnb_interaction_lr.csv")
w(data.frame(loglik = f17(as.numeric(logLik(m))), theta = f17(m$theta), n = nobs(m)), "fb_glmnb_interaction_fit.csv")
w(anova_table(Anova(m, type = "II", test.statistic = "Wald")), "fb_glmnb_interaction_anova2_wald.csv")
w(anova_table(Anova(m, type = "III", test.statistic = "Wald")), "fb_glmnb_interaction_anova3_wald.csv")
e <- emmeans(m, ~ Type | Paid, offset = log(1000), type = "response")
w(num_table(summary(e)), "fb_glmnb_emmeans_type_by_paid.csv")
w(num_table(summary(pairs(e, adjust = "holm"))), "fb_glmnb_pairs_type_by_paid_holm.csv")
w(num_table(summary(emmeans(m, ~ Type, offset = log(1000), type = "response"))), "fb_glmnb_emmeans_type.csv")
w(num_table(summary(pairs(emmeans(m, ~ Type, offset = log(1000), type = "response"), adjust = "holm"))),
  "fb_glmnb_pairs_type_holm.csv")

# 2. integer-coded groups: factor(month) orders 1, 2, ..., 12 numerically ----------------------------------
w(coef_table(nb(comments ~ month + offset(log(reach)))), "fb_glmnb_month_coef.csv")

# 3. NB GLMM with an interaction and a random intercept per month -------------------------------------------
tmb <- function(f) glmmTMB(f, data = fb, family = nbinom2,
                           control = glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4)))
g <- tmb(comments ~ Type * Paid + offset(log(reach)) + (1 | month))
w(coef_table(g), "fb_glmmtmb_interaction_coef.csv")
w(data.frame(loglik = f17(as.numeric(logLik(g))), theta = f17(sigma(g)),
             sd_month = f17(attr(VarCorr(g)$cond$month, "stddev")[[1]]), n = nobs(g)), "fb_glmmtmb_interaction_fit.csv")
w(anova_table(drop1(g, test = "Chisq")), "fb_glmmtmb_interaction_drop1.csv")
lg <- function(f) as.numeric(logLik(tmb(f)))
w(data.frame(term = c("Type", "Paid", "Type_joint"), reduced = c("Paid", "Type", "Paid"),
             statistic = f17(2 * c(lg(comments ~ Type + Paid + offset(log(reach)) + (1 | month)) -
                                     lg(comments ~ Paid + offset(log(reach)) + (1 | month)),
                                   lg(comments ~ Type + Paid + offset(log(reach)) + (1 | month)) -
                                     lg(comments ~ Type + offset(log(reach)) + (1 | month)),
                                   as.numeric(logLik(g)) - lg(comments ~ Paid + offset(log(reach)) + (1 | month)))),
             df = c(3, 1, 6)), "fb_glmmtmb_interaction_lr.csv")
w(anova_table(Anova(g, type = "II")), "fb_glmmtmb_interaction_anova2_wald.csv")
w(anova_table(Anova(g, type = "III")), "fb_glmmtmb_interaction_anova3_wald.csv")
eg <- emmeans(g, ~ Type | Paid, offset = log(1000), type = "response")
w(num_table(summary(eg)), "fb_glmmtmb_emmeans_type_by_paid.csv")
w(num_table(summary(pairs(eg, adjust = "holm"))), "fb_glmmtmb_pairs_type_by_paid_holm.csv")

# 4. two random intercepts: crossed (month, weekday) and nested (month/weekday) -----------------------------
for (spec in list(list(f = comments ~ Type + offset(log(reach)) + (1 | month) + (1 | weekday), name = "crossed"),
                  list(f = comments ~ Type + offset(log(reach)) + (1 | month) + (1 | month:weekday), name = "nested"))) {
  h <- tmb(spec$f)
  vc <- VarCorr(h)$cond
  w(coef_table(h), sprintf("fb_glmmtmb_%s_coef.csv", spec$name))
  w(data.frame(loglik = f17(as.numeric(logLik(h))), theta = f17(sigma(h)), n = nobs(h),
               term = names(vc), sd = f17(sapply(vc, function(v) attr(v, "stddev")[[1]]))),
    sprintf("fb_glmmtmb_%s_fit.csv", spec$name))
}
# 5. an uncentred covariate (page likes, ~1e5) in the NB GLMM ---------------------------------------------------
fb$likes <- raw[["Page total likes"]][!is.na(raw[["Paid"]])]
u <- tmb(comments ~ Type + likes + offset(log(reach)) + (1 | month))
w(coef_table(u), "fb_glmmtmb_uncentred_coef.csv")
w(data.frame(loglik = f17(as.numeric(logLik(u))), theta = f17(sigma(u)),
             sd_month = f17(attr(VarCorr(u)$cond$month, "stddev")[[1]])), "fb_glmmtmb_uncentred_fit.csv")
# the same model with the covariate centred and in thousands: glmmTMB's standard errors of the uncentred fit are
# ~0.75% off (its Hessian at that scale); the centred fit's are the reference for the SE of `likes`
fb$likes_c <- (fb$likes - mean(fb$likes)) / 1000
w(coef_table(tmb(comments ~ Type + likes_c + offset(log(reach)) + (1 | month))), "fb_glmmtmb_centred_coef.csv")
# 6. zero part with a predictor through the formula API: hurdle NB (pscl) and the hurdle NB GLMM (glmmTMB) -------
suppressPackageStartupMessages(library(pscl))
hz <- hurdle(comments ~ Type + offset(log(reach)) | Paid, data = fb, dist = "negbin")
sh <- summary(hz)$coefficients
w(data.frame(term = c(paste0("count_", rownames(sh$count)), paste0("zero_", rownames(sh$zero))),
             estimate = f17(c(sh$count[, 1], sh$zero[, 1])), std_error = f17(c(sh$count[, 2], sh$zero[, 2]))),
  "fb_hurdle_negbin_zero_paid_coef.csv")
w(data.frame(loglik = f17(as.numeric(logLik(hz))), theta = f17(hz$theta)), "fb_hurdle_negbin_zero_paid_fit.csv")
ht <- glmmTMB(comments ~ Type + offset(log(reach)) + (1 | month), ziformula = ~ Paid, data = fb,
              family = truncated_nbinom2, control = glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4)))
st <- summary(ht)$coefficients
w(data.frame(term = c(paste0("cond_", rownames(st$cond)), paste0("zi_", rownames(st$zi))),
             estimate = f17(c(st$cond[, 1], st$zi[, 1])), std_error = f17(c(st$cond[, 2], st$zi[, 2]))),
  "fb_glmmtmb_hurdle_zero_paid_coef.csv")
w(data.frame(loglik = f17(as.numeric(logLik(ht))), theta = f17(sigma(ht)),
             sd_month = f17(attr(VarCorr(ht)$cond$month, "stddev")[[1]])), "fb_glmmtmb_hurdle_zero_paid_fit.csv")
writeLines(capture.output(sessionInfo()), file.path(out, "formula_sessionInfo.txt"))
