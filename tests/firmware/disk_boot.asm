; A raw disk image booted through the BIOS (tests/firmware/bios_test.sh).
; Sector 0, the MBR, prints a marker to the debug console (port 0xE9)
; and the screen, loads sector 1 with INT 13h AH=02h (CHS) and jumps to it.  Sector 1
; reads sector 2 with AH=42h (LBA) and checks its bytes, writes sector 3
; with AH=43h, reads it back with AH=02h, checks it, and leaves through
; the exit port 0xF4 with 0 (status 1).  Any failure prints FAIL and
; exits with 0x10 (status 33).  The image is 128 sectors (64 KiB).
bits 16
org 0x7c00

STAGE2  equ 0x7e00
INBUF   equ 0x8000
OUTBUF  equ 0x8400
BACKBUF equ 0x8800

mbr:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    mov [drive], dl
    mov si, msg_mbr
    call print
    mov ax, 0x0201              ; read 1 sector
    mov cx, 0x0002              ; cylinder 0, sector 2
    xor dh, dh                  ; head 0
    mov dl, [drive]
    mov bx, STAGE2
    int 0x13
    jc fail
    jmp stage2

; Print the NUL-terminated string at DS:SI on port 0xE9 and on the
; screen (INT 10h AH=0Eh teletype; a line feed there gets its carriage
; return).
print:
    push ax
    push bx
.next:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    mov bx, 0x0007
    cmp al, 10
    jne .tty
    mov ax, 0x0e0d
    int 0x10
    mov al, 10
.tty:
    mov ah, 0x0e
    int 0x10
    jmp .next
.done:
    pop bx
    pop ax
    ret

fail:
    mov si, msg_fail
    call print
    mov al, 0x10
    out 0xf4, al
    cli
    hlt

drive:   db 0
msg_mbr: db "MBR: loading stage 2", 10, 0
msg_fail: db "FAIL", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xaa55

; ---- sector 1: loaded at 0x7E00 ----
stage2:
    mov si, msg_s2
    call print
    ; Read LBA 2 with the extended call and check it.
    mov word [dap_buf], INBUF
    mov dword [dap_lba], 2
    mov si, dap
    mov ah, 0x42
    mov dl, [drive]
    int 0x13
    jc fail
    mov si, INBUF
    mov di, pattern_in
    mov cx, 16
    repe cmpsb
    jne fail
    mov si, INBUF + 496          ; the last 16 bytes too
    mov di, pattern_in
    mov cx, 16
    repe cmpsb
    jne fail
    mov si, msg_read
    call print
    ; Fill OUTBUF with 32 copies of pattern_out and write it to LBA 3.
    mov di, OUTBUF
    mov bx, 32
.fill:
    mov si, pattern_out
    mov cx, 16
    rep movsb
    dec bx
    jnz .fill
    mov word [dap_buf], OUTBUF
    mov dword [dap_lba], 3
    mov si, dap
    mov ax, 0x4300
    mov dl, [drive]
    int 0x13
    jc fail
    ; Read it back by CHS (sector 4 = LBA 3) and compare all 512 bytes.
    mov ax, 0x0201
    mov cx, 0x0004
    xor dh, dh
    mov dl, [drive]
    mov bx, BACKBUF
    int 0x13
    jc fail
    mov si, BACKBUF
    mov di, OUTBUF
    mov cx, 512
    repe cmpsb
    jne fail
    mov si, msg_write
    call print
    xor al, al
    out 0xf4, al
    cli
    hlt

dap:
    db 0x10, 0
    dw 1                        ; sectors
dap_buf:
    dw 0, 0                     ; offset, segment
dap_lba:
    dq 0
pattern_in:  db "DATA-FROM-IMAGE!"
pattern_out: db "WRITTEN-BY-GUEST"
msg_s2:    db "STAGE2: running", 10, 0
msg_read:  db "STAGE2: read LBA 2 ok", 10, 0
msg_write: db "STAGE2: wrote LBA 3 and read it back", 10, 0
    times 1024 - ($ - $$) db 0

; ---- sector 2: the data the guest reads ----
    times 32 db "DATA-FROM-IMAGE!"
; ---- sector 3: overwritten by the guest ----
    times 32 db "ORIGINAL-SECTOR3"
; ---- the rest of the 64 KiB disk ----
    times 128 * 512 - ($ - $$) db 0
