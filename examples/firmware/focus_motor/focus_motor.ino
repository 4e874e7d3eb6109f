// focus_motor.ino -- reference controller for the Focus Assistant serial
// focus protocol, version 1 (docs/serial-protocol.md in the repository).
//
// Board: Arduino Uno or Nano (ATmega328P, 16 MHz). Motor: a stepper on an
// A4988 or DRV8825 step/dir driver. Optional: a limit switch, and the
// DRV8825's FAULT output. Wiring: examples/firmware/README.md.
//
// The motor runs at a constant speed timed with micros(), with no
// acceleration ramp: fine for a light focus ring. If the motor misses steps,
// lower MAX_SPEED (or add microstepping and scale the numbers below).
//
// Position is an open-loop step count that starts at POS_MIN on reset, so
// park the focus ring at that end before the board resets. An Uno or Nano
// resets every time the host opens the port.

#include <stdlib.h>
#include <string.h>

// ---- configuration ---------------------------------------------------------

const long BAUD = 115200;

const uint8_t STEP_PIN = 2;
const uint8_t DIR_PIN = 3;
const uint8_t ENABLE_PIN = 4;      // driver EN, active LOW: LOW = motor energised
const int LIMIT_PIN = 5;           // switch to GND, closed = fault; -1 when not fitted
const int DRIVER_FAULT_PIN = -1;   // DRV8825 FAULT (active LOW); -1 when not wired
const bool INVERT_DIR = false;     // true if rising positions turn the ring the wrong way

const char UNITS[] = "steps";      // one word, reported by HELLO
const long POS_MIN = 0;            // the accepted positions, in UNITS
const long POS_MAX = 4000;
const long MAX_SPEED = 2000;       // UNITS per second; keep it under ~5000 on a 16 MHz board
const unsigned long WATCHDOG_MS = 1000;  // stop a move after this long without a command

const unsigned int STEP_PULSE_US = 3;  // STEP high time: A4988 needs 1 us, DRV8825 1.9 us
const unsigned int DIR_SETUP_US = 2;   // DIR settles before STEP: DRV8825 needs 0.65 us
const uint8_t LINE_MAX = 32;           // longest command line, without the newline

// ---- state -----------------------------------------------------------------

long position = POS_MIN;           // where the motor is, in steps
long target = POS_MIN;             // where it is going; equal to position when idle
unsigned long stepIntervalUs = 1000000UL / MAX_SPEED;
unsigned long nextStepUs = 0;      // when the next step is due (micros)
bool dirUp = false;                // the direction DIR_PIN is set to
unsigned long lastCommandMs = 0;   // when the last known command arrived (millis)
const char *fault = NULL;          // latched fault text; NULL while healthy

char line[LINE_MAX + 1];           // the command line being received
uint8_t lineLen = 0;
bool lineBad = false;              // the line is too long or has a non-printable byte

// ---- replies ---------------------------------------------------------------

void endLine() {
  Serial.print('\n');
}

void replyError(const __FlashStringHelper *code, const __FlashStringHelper *text) {
  Serial.print(F("ERR "));
  Serial.print(code);
  Serial.print(' ');
  Serial.print(text);
  endLine();
}

void replyFault() {
  Serial.print(F("ERR FAULT "));
  Serial.print(fault);
  endLine();
}

void replyRange(const __FlashStringHelper *what, long lo, long hi) {
  Serial.print(F("ERR RANGE "));
  Serial.print(what);
  Serial.print(F(" outside "));
  Serial.print(lo);
  Serial.print(F(".."));
  Serial.print(hi);
  endLine();
}

void replyHello() {
  Serial.print(F("OK FOCUS 1 "));
  Serial.print(UNITS);
  Serial.print(' ');
  Serial.print(POS_MIN);
  Serial.print(' ');
  Serial.print(POS_MAX);
  Serial.print(' ');
  Serial.print(MAX_SPEED);
  Serial.print(' ');
  Serial.print(WATCHDOG_MS);
  endLine();
}

// ---- motor -----------------------------------------------------------------

void stopMotor() {
  target = position;
}

void latchFault(const char *text) {
  stopMotor();
  fault = text;
  digitalWrite(ENABLE_PIN, HIGH);  // de-energise, so the ring can be turned by hand
}

void startMove(long to) {
  if (position == target) {
    nextStepUs = micros();  // starting from rest: the first step is due now
  }
  target = to;
}

// A new speed applies at once, also to a move in progress: the pending step is
// rescheduled one new interval after the previous step (now, if that has
// passed), instead of waiting out the old interval, up to 1 s at speed 1.
void setSpeed(long unitsPerSecond) {
  unsigned long interval = 1000000UL / (unsigned long)unitsPerSecond;
  if (position != target) {
    nextStepUs = nextStepUs - stepIntervalUs + interval;
    unsigned long now = micros();
    if ((long)(now - nextStepUs) > 0) {
      nextStepUs = now;
    }
  }
  stepIntervalUs = interval;
}

void stepMotor() {
  if (fault != NULL || position == target) {
    return;
  }
  unsigned long now = micros();
  if ((long)(now - nextStepUs) < 0) {
    return;  // not due yet (the cast keeps this right across the micros() wrap)
  }
  bool up = target > position;
  if (up != dirUp) {
    digitalWrite(DIR_PIN, (up != INVERT_DIR) ? HIGH : LOW);
    dirUp = up;
    delayMicroseconds(DIR_SETUP_US);
  }
  digitalWrite(STEP_PIN, HIGH);
  delayMicroseconds(STEP_PULSE_US);
  digitalWrite(STEP_PIN, LOW);
  position += up ? 1 : -1;
  nextStepUs += stepIntervalUs;
  if ((long)(now - nextStepUs) > (long)stepIntervalUs) {
    nextStepUs = now;  // far behind (a long reply?): carry on, no burst of catch-up steps
  }
}

void checkFaults() {
  if (fault != NULL) {
    return;
  }
  if (LIMIT_PIN >= 0 && digitalRead(LIMIT_PIN) == LOW) {
    latchFault("limit switch");
  } else if (DRIVER_FAULT_PIN >= 0 && digitalRead(DRIVER_FAULT_PIN) == LOW) {
    latchFault("driver fault (overcurrent or overheating)");
  }
}

void checkWatchdog() {
  if (position != target && millis() - lastCommandMs > WATCHDOG_MS) {
    stopMotor();
    Serial.print(F("# watchdog: no command for "));
    Serial.print(WATCHDOG_MS);
    Serial.print(F(" ms, motor stopped"));
    endLine();
  }
}

// ---- commands --------------------------------------------------------------

// A decimal integer filling the whole of text.
bool parseLong(const char *text, long *out) {
  if (strlen(text) > 11) {
    return false;
  }
  char *end;
  long value = strtol(text, &end, 10);
  if (end == text || *end != '\0') {
    return false;
  }
  *out = value;
  return true;
}

// Answers one command line; true when it was a valid command (a known name,
// a well-formed number), which is what keeps the watchdog fed.
bool handleLine(char *cmd) {
  char *arg = strchr(cmd, ' ');
  if (arg != NULL) {
    *arg = '\0';
    arg++;
  }
  bool hasArg = arg != NULL && *arg != '\0';

  if (!hasArg && strcmp(cmd, "HELLO") == 0) {
    replyHello();  // also while faulted, so the host can identify the device
    return true;
  }
  if (!hasArg && strcmp(cmd, "STOP") == 0) {
    stopMotor();   // always succeeds
    Serial.print(F("OK STOP"));
    endLine();
    return true;
  }
  bool isPos = !hasArg && strcmp(cmd, "POS?") == 0;
  bool isStatus = !hasArg && strcmp(cmd, "STATUS?") == 0;
  bool isMove = hasArg && strcmp(cmd, "MOVE") == 0;
  bool isSpeed = hasArg && strcmp(cmd, "SPEED") == 0;
  if (!(isPos || isStatus || isMove || isSpeed)) {
    replyError(F("SYNTAX"), F("unknown command or wrong arguments"));
    return false;
  }
  if (fault != NULL) {
    replyFault();
    return true;
  }
  if (isPos) {
    Serial.print(F("OK "));
    Serial.print(position);
    if (position != target) {
      Serial.print(F(" 1"));
    } else {
      Serial.print(F(" 0"));
    }
    endLine();
    return true;
  }
  if (isStatus) {
    if (position != target) {
      Serial.print(F("OK MOVING"));
    } else {
      Serial.print(F("OK READY"));
    }
    endLine();
    return true;
  }
  long value;
  if (!parseLong(arg, &value)) {
    replyError(F("SYNTAX"), F("bad number"));
    return false;  // not a valid command: it does not feed the watchdog
  }
  if (isMove) {
    if (value < POS_MIN || value > POS_MAX) {
      replyRange(F("position"), POS_MIN, POS_MAX);
      return true;
    }
    startMove(value);
    Serial.print(F("OK MOVE "));
    Serial.print(value);
    endLine();
    return true;
  }
  if (value < 1 || value > MAX_SPEED) {
    replyRange(F("speed"), 1, MAX_SPEED);
    return true;
  }
  setSpeed(value);
  Serial.print(F("OK SPEED "));
  Serial.print(value);
  endLine();
  return true;
}

void finishLine() {
  while (lineLen > 0 && line[lineLen - 1] == ' ') {
    lineLen--;
  }
  line[lineLen] = '\0';
  if (lineBad) {
    replyError(F("SYNTAX"), F("line too long or not printable ASCII"));
  } else if (lineLen > 0 && handleLine(line)) {
    lastCommandMs = millis();
  }
  // An empty line gets no reply.
  lineLen = 0;
  lineBad = false;
}

void readSerial() {
  while (Serial.available() > 0) {
    int c = Serial.read();
    if (c == '\n') {
      finishLine();
    } else if (c == '\r') {
      // the \r of a \r\n line ending
    } else if (c < 0x20 || c > 0x7E || lineLen >= LINE_MAX) {
      lineBad = true;
    } else {
      line[lineLen++] = (char)c;
    }
  }
}

// ---- main ------------------------------------------------------------------

void setup() {
  pinMode(STEP_PIN, OUTPUT);
  pinMode(DIR_PIN, OUTPUT);
  pinMode(ENABLE_PIN, OUTPUT);
  digitalWrite(STEP_PIN, LOW);
  digitalWrite(DIR_PIN, INVERT_DIR ? HIGH : LOW);  // matches dirUp == false
  digitalWrite(ENABLE_PIN, LOW);                   // energised: holds the ring
  if (LIMIT_PIN >= 0) {
    pinMode(LIMIT_PIN, INPUT_PULLUP);
  }
  if (DRIVER_FAULT_PIN >= 0) {
    pinMode(DRIVER_FAULT_PIN, INPUT_PULLUP);
  }
  // The README's 100 nF across the switch charges through the ~35 kOhm pull-up
  // in a few ms; read the pin before that and every power-up latches a fault.
  delay(20);
  Serial.begin(BAUD);
  Serial.print(F("# focus_motor ready"));
  endLine();
  lastCommandMs = millis();
}

void loop() {
  readSerial();
  checkFaults();
  checkWatchdog();
  stepMotor();
}
