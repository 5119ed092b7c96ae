; Nothing interrupts a guest that programmed neither the 8254 nor the
; 8259A: after reset a counter's state is undefined until a control word
; and a count are written (8254 datasheet, "Programming"), and the 8259A
; does nothing before its initialization sequence (8259A datasheet,
; "Initialization Command Words").  Every vector points at a counting
; handler; the program enables interrupts at once and runs for 80 ms of
; guest time, then initializes the 8259A with IRQ0 unmasked, writes a
; count to channel 0 without a control word and runs 80 ms again.
; umbra-args: -bios {bin} -no-reboot
%include "lib.inc"
    bits 16
    org 0
count equ 0x6000
start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [count], 0
    xor di, di                          ; IVT: all 256 vectors -> F000:any_int
    mov cx, 256
.ivt:
    mov word [di], any_int
    mov word [di + 2], 0xf000
    add di, 4
    loop .ivt
    sti
    mov ecx, 8000000
.spin:
    a32 loop .spin
    cli
    cmp word [count], 0
    jne bad
    ; Now the 8259A, with IRQ0 unmasked, and a count for channel 0 without
    ; a control word: the counter must stay idle.
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfe
    out 0x21, al
    mov al, 100
    out 0x40, al
    mov al, 0
    out 0x40, al
    sti
    mov ecx, 8000000
.spin2:
    a32 loop .spin2
    cli
    cmp word [count], 0
    jne bad
    mov si, msg_ok
    call puts
    EXIT 0
bad:
    mov si, msg_bad
    call puts
    EXIT 1

any_int:
    inc word [count]
    iret

    PUTS16

msg_ok: db "no interrupt before the chips were programmed", 10, 0
msg_bad: db "interrupt before the chips were programmed", 10, 0

    ROM16_TAIL start
