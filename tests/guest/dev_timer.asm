; The PIT's channel 0 drives IRQ0 through the 8259A at 100 Hz while the CPU
; idles in HLT; after 100 ticks one second of virtual time has passed, and
; the TSC must have advanced by one second's worth of ticks (it is derived
; from the same virtual clock, which Linux's TSC calibration relies on).
; umbra-args: -bios {bin} -no-reboot
%include "lib.inc"
    bits 16
    org 0
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [0x20 * 4], irq0          ; IVT[0x20] = F000:irq0
    mov word [0x20 * 4 + 2], 0xf000
    mov word [ticks], 0
    ; 8259A master: ICW1 edge+ICW4, ICW2 base 0x20, ICW3 slave on IRQ2, ICW4 8086
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfe                        ; only IRQ0
    out 0x21, al
    ; 8254 channel 0, lobyte/hibyte, mode 2, 1193182 / 100 = 11932
    mov al, 0x34
    out 0x43, al
    mov ax, 11932
    out 0x40, al
    mov al, ah
    out 0x40, al
    rdtsc
    mov [tsc0], eax
    mov [tsc0 + 4], edx
    sti
.wait:
    hlt
    cmp word [ticks], 100
    jb .wait
    cli
    rdtsc
    sub eax, [tsc0]
    sbb edx, [tsc0 + 4]
    mov si, msg_ticks
    call puts
    ; one second at the TSC's nominal rate, within 1%
    test edx, edx
    jnz fail
    cmp eax, 99000000
    jb fail
    cmp eax, 101000000
    ja fail
    mov si, msg_tsc
    call puts
    EXIT 0
fail:
    mov si, msg_bad
    call puts
    EXIT 1

irq0:
    push ax
    inc word [ticks]                    ; DS = 0 in the main loop
    mov al, 0x20                        ; non-specific EOI
    out 0x20, al
    pop ax
    iret

    PUTS16

msg_ticks: db "100 timer interrupts", 10, 0
msg_tsc: db "tsc advanced one second", 10, 0
msg_bad: db "tsc out of range", 10, 0

ticks equ 0x6000
tsc0 equ 0x6010

    ROM16_TAIL start
