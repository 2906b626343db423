/*
 * plugin_trial.h - the progress line a trial load writes to its parent
 * ("I<where>plugin NAME" before each init, "E<message>" on an error), so
 * that a crash in a plugin's init names the plugin.
 */
#ifndef PSMTPD_PLUGIN_TRIAL_H
#define PSMTPD_PLUGIN_TRIAL_H

/* Seconds a trial may take before its child is killed. */
#define PLUGIN_TRIAL_TIMEOUT 60

/* One line to fd (nothing when fd is -1). */
void plugin_trial_progress(int fd, char kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
