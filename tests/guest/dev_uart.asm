; COM1 end to end: the loopback probe Linux's 8250 driver runs, then a
; line sent by polling LSR.THRE, which must reach stdout through
; -serial stdio.  Real mode, no interrupts.
; umbra-args: -bios {bin} -no-reboot -serial stdio
%include "lib.inc"
[bits 16]
org 0
COM1 equ 0x3f8
start:
    mov ax, cs
    mov ds, ax
    ; MCR loopback with RTS and OUT2: MSR must show CTS and DCD.
    mov dx, COM1 + 4
    mov al, 0x1a
    out dx, al
    mov dx, COM1 + 6
    in al, dx
    and al, 0xf0
    cmp al, 0x90
    jne fail
    ; A byte sent in loopback comes back in RBR.
    mov dx, COM1
    mov al, 0x5a
    out dx, al
    mov dx, COM1 + 5
    in al, dx
    test al, 1
    jz fail
    mov dx, COM1
    in al, dx
    cmp al, 0x5a
    jne fail
    mov dx, COM1 + 4
    mov al, 0x0b                ; leave loopback
    out dx, al
    ; 8N1 at 115200 baud.
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al
    mov si, msg
.next:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, COM1
    mov al, ah
    out dx, al
    jmp .next
.done:
    EXIT 0
fail:
    EXIT 1
msg: db "hello from COM1", 10, 0
    times 0xFFF0 - ($ - $$) db 0xF4
    jmp 0xF000:start
    times 65536 - ($ - $$) db 0xF4
